/**
 * Email accounts (managers): the mail gateway's inboxes, through the gateway's /api/mail/accounts
 * and /api/mail/quarantine. Add an inbox (IMAP to read, SMTP to answer) after a connection test
 * that logs in to both servers with what was typed, with its team, signature and whether a new
 * ticket is acknowledged; see each inbox's connection; release or discard quarantined mail.
 * Passwords are write-only: the API never shows them again.
 */
import {
  Alert,
  Button,
  Group,
  NumberInput,
  Paper,
  PasswordInput,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Text,
  Textarea,
  TextInput,
  Title,
} from "@mantine/core";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState, type SyntheticEvent } from "react";
import { useTranslation } from "react-i18next";
import { unwrap } from "../../shared/api/client";
import { useTeams } from "../data";
import { adminApi, type AdminSchemas } from "./adminApi";
import { FormCard, ItemsTable, noContent, SaveResult, useSaving } from "./common";

type Account = AdminSchemas["AccountView"];
type AccountBody = AdminSchemas["AccountBody"];
type Quarantined = AdminSchemas["QuarantinedView"];
type Tls = "none" | "starttls" | "ssl";
const TLS: Tls[] = ["ssl", "starttls", "none"];

const ACCOUNTS = ["mail", "accounts"];
const QUARANTINE = ["mail", "quarantine"];

/** The form's fields, as typed (ports as numbers, optional SMTP login). */
interface Draft {
  address: string;
  display_name: string;
  imap_host: string;
  imap_port: number;
  imap_tls: Tls;
  imap_user: string;
  imap_password: string;
  imap_folder: string;
  archive_folder: string;
  smtp_host: string;
  smtp_port: number;
  smtp_tls: Tls;
  smtp_user: string;
  smtp_password: string;
  team_id: string | null;
  signature: string;
  acknowledge: boolean;
}

const EMPTY: Draft = {
  address: "",
  display_name: "",
  imap_host: "",
  imap_port: 993,
  imap_tls: "ssl",
  imap_user: "",
  imap_password: "",
  imap_folder: "INBOX",
  archive_folder: "",
  smtp_host: "",
  smtp_port: 587,
  smtp_tls: "starttls",
  smtp_user: "",
  smtp_password: "",
  team_id: null,
  signature: "",
  acknowledge: true,
};

function bodyOf(d: Draft): AccountBody {
  return {
    address: d.address.trim(),
    display_name: d.display_name,
    imap_host: d.imap_host.trim(),
    imap_port: d.imap_port,
    imap_tls: d.imap_tls,
    imap_user: d.imap_user.trim() || d.address.trim(),
    imap_folder: d.imap_folder || "INBOX",
    archive_folder: d.archive_folder.trim() || null,
    smtp_host: d.smtp_host.trim(),
    smtp_port: d.smtp_port,
    smtp_tls: d.smtp_tls,
    smtp_user: d.smtp_user.trim() || null,
    team_id: d.team_id,
    signature: d.signature,
    acknowledge: d.acknowledge,
    enabled: true,
    secrets: {
      imap_password: d.imap_password,
      smtp_password: d.smtp_password || null,
    },
  };
}

function ServerFields({
  kind,
  draft,
  set,
}: {
  kind: "imap" | "smtp";
  draft: Draft;
  set: (patch: Partial<Draft>) => void;
}) {
  const { t } = useTranslation();
  const name = (field: string) => t(`admin.mail.${field}`, { server: kind.toUpperCase() });
  return (
    <Paper withBorder p="sm">
      <Title order={4} size="h6" mb="xs">
        {t(`admin.mail.${kind}Title`)}
      </Title>
      <SimpleGrid cols={{ base: 1, sm: 3 }}>
        <TextInput
          label={name("host")}
          required
          value={draft[`${kind}_host`]}
          onChange={(e) => set({ [`${kind}_host`]: e.currentTarget.value })}
        />
        <NumberInput
          label={name("port")}
          required
          min={1}
          max={65535}
          value={draft[`${kind}_port`]}
          onChange={(v) => set({ [`${kind}_port`]: typeof v === "number" ? v : Number(v) })}
        />
        <Select
          label={name("security")}
          data={TLS.map((m) => ({ value: m, label: t(`admin.mail.tls.${m}`) }))}
          value={draft[`${kind}_tls`]}
          allowDeselect={false}
          onChange={(v) => v && set({ [`${kind}_tls`]: v })}
        />
        <TextInput
          label={name("user")}
          description={
            kind === "imap" ? t("admin.mail.imapUserHint") : t("admin.mail.smtpUserHint")
          }
          value={draft[`${kind}_user`]}
          onChange={(e) => set({ [`${kind}_user`]: e.currentTarget.value })}
        />
        <PasswordInput
          label={name("password")}
          description={kind === "smtp" ? t("admin.mail.smtpPasswordHint") : undefined}
          required={kind === "imap"}
          value={draft[`${kind}_password`]}
          onChange={(e) => set({ [`${kind}_password`]: e.currentTarget.value })}
        />
        {kind === "imap" && (
          <TextInput
            label={t("admin.mail.folder")}
            value={draft.imap_folder}
            onChange={(e) => set({ imap_folder: e.currentTarget.value })}
          />
        )}
        {kind === "imap" && (
          <TextInput
            label={t("admin.mail.archiveFolder")}
            description={t("admin.mail.archiveFolderHint")}
            value={draft.archive_folder}
            onChange={(e) => set({ archive_folder: e.currentTarget.value })}
          />
        )}
      </SimpleGrid>
    </Paper>
  );
}

function TestResult({ result }: { result: AdminSchemas["ConnectionTestView"] }) {
  const { t } = useTranslation();
  if (result.ok) {
    return (
      <Alert variant="light" role="status" title={t("admin.mail.testOk")}>
        {t("admin.mail.testOkText")}
      </Alert>
    );
  }
  return (
    <Alert variant="light" color="red" role="alert" title={t("admin.mail.testFailed")}>
      {result.imap_error && <Text size="sm">IMAP: {result.imap_error}</Text>}
      {result.smtp_error && <Text size="sm">SMTP: {result.smtp_error}</Text>}
    </Alert>
  );
}

function AddInbox() {
  const { t } = useTranslation();
  const teams = useTeams();
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));
  const test = useMutation({
    mutationFn: async (body: AccountBody) =>
      unwrap(await adminApi.POST("/mail/accounts/test", { body })),
  });
  const add = useSaving(
    async (body: AccountBody) => unwrap(await adminApi.POST("/mail/accounts", { body })),
    [ACCOUNTS],
  );
  const submit = () => {
    add.mutate(bodyOf(draft), {
      onSuccess: () => {
        setDraft(EMPTY);
        test.reset();
      },
    });
  };
  const runTest = (event: SyntheticEvent) => {
    const form = (event.currentTarget as HTMLButtonElement).form;
    if (form && !form.reportValidity()) return;
    test.mutate(bodyOf(draft));
  };
  return (
    <FormCard title={t("admin.mail.add")} onSubmit={submit}>
      <Stack gap="sm">
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <TextInput
            label={t("admin.mail.address")}
            type="email"
            required
            value={draft.address}
            onChange={(e) => set({ address: e.currentTarget.value })}
          />
          <TextInput
            label={t("admin.mail.displayName")}
            value={draft.display_name}
            onChange={(e) => set({ display_name: e.currentTarget.value })}
          />
          <Select
            label={t("admin.mail.team")}
            description={t("admin.mail.teamHint")}
            data={(teams.data ?? []).map((team) => ({ value: team.id, label: team.name }))}
            value={draft.team_id}
            onChange={(v) => set({ team_id: v })}
            clearable
          />
        </SimpleGrid>
        <ServerFields kind="imap" draft={draft} set={set} />
        <ServerFields kind="smtp" draft={draft} set={set} />
        <Textarea
          label={t("admin.mail.signature")}
          autosize
          minRows={2}
          maxLength={5000}
          value={draft.signature}
          onChange={(e) => set({ signature: e.currentTarget.value })}
        />
        <Switch
          label={t("admin.mail.acknowledge")}
          description={t("admin.mail.acknowledgeHint")}
          checked={draft.acknowledge}
          onChange={(e) => set({ acknowledge: e.currentTarget.checked })}
        />
        <Group>
          <Button variant="default" loading={test.isPending} onClick={runTest}>
            {t("admin.mail.test")}
          </Button>
          <Button type="submit" loading={add.isPending}>
            {t("admin.mail.submit")}
          </Button>
        </Group>
        {test.data && <TestResult result={test.data} />}
        {test.error && <SaveResult error={test.error} done={false} />}
        <SaveResult error={add.error} done={add.isSuccess} />
      </Stack>
    </FormCard>
  );
}

function Connection({ account }: { account: Account }) {
  const { t } = useTranslation();
  const status = useQuery({
    queryKey: ["mail", "accounts", account.account_id, "status"],
    queryFn: async () =>
      unwrap(
        await adminApi.GET("/mail/accounts/{account_id}/status", {
          params: { path: { account_id: account.account_id } },
        }),
      ),
    refetchInterval: 5000,
  });
  if (!status.data) return <Text size="sm">—</Text>;
  const s = status.data;
  return (
    <Text size="sm">
      {s.connected ? t("admin.mail.connected") : t("admin.mail.notConnected", { state: s.state })}
      {s.last_error && !s.connected ? ` (${s.last_error})` : ""}
    </Text>
  );
}

function Inboxes() {
  const { t } = useTranslation();
  const teams = useTeams();
  const accounts = useQuery({
    queryKey: ACCOUNTS,
    queryFn: async (): Promise<Account[]> => unwrap(await adminApi.GET("/mail/accounts")),
  });
  const remove = useSaving(
    async (account: Account) =>
      noContent(
        await adminApi.DELETE("/mail/accounts/{account_id}", {
          params: {
            path: { account_id: account.account_id },
            header: { "if-match": `"${account.version}"` },
          },
        }),
      ),
    [ACCOUNTS],
  );
  const teamName = (id: string | null | undefined) =>
    teams.data?.find((team) => team.id === id)?.name ?? t("admin.none");
  return (
    <Stack gap="xs">
      <Title order={3} size="h4">
        {t("admin.mail.inboxes")}
      </Title>
      {accounts.error && <SaveResult error={accounts.error} done={false} />}
      <ItemsTable
        rows={accounts.data ?? []}
        rowKey={(account) => account.account_id}
        testId="inbox-row"
        columns={[
          { heading: t("admin.mail.address"), cell: (account) => account.address },
          { heading: t("admin.mail.team"), cell: (account) => teamName(account.team_id) },
          {
            heading: t("admin.mail.acknowledgement"),
            cell: (account) => (account.acknowledge ? t("admin.mail.on") : t("admin.mail.off")),
          },
          {
            heading: t("admin.mail.handledMail"),
            cell: (account) =>
              account.archive_folder
                ? t("admin.mail.movedTo", { folder: account.archive_folder })
                : t("admin.mail.keptRead"),
          },
          {
            heading: t("admin.mail.connection"),
            cell: (account) => <Connection account={account} />,
          },
          {
            heading: t("admin.remove"),
            cell: (account) => (
              <Button
                size="xs"
                color="red"
                variant="light"
                aria-label={t("admin.mail.removeInbox", { address: account.address })}
                loading={remove.isPending && remove.variables === account}
                onClick={() => remove.mutate(account)}
              >
                {t("admin.remove")}
              </Button>
            ),
          },
        ]}
        empty={t("admin.mail.noInboxes")}
      />
      <SaveResult error={remove.error} done={false} />
    </Stack>
  );
}

function QuarantineList() {
  const { t, i18n } = useTranslation();
  const held = useQuery({
    queryKey: QUARANTINE,
    queryFn: async (): Promise<Quarantined[]> =>
      unwrap(await adminApi.GET("/mail/quarantine", { params: { query: { state: "held" } } })),
    refetchInterval: 10_000,
  });
  const settle = useSaving(
    async ({ id, action }: { id: string; action: "release" | "discard" }) =>
      unwrap(
        action === "release"
          ? await adminApi.POST("/mail/quarantine/{quarantine_id}/release", {
              params: { path: { quarantine_id: id } },
            })
          : await adminApi.POST("/mail/quarantine/{quarantine_id}/discard", {
              params: { path: { quarantine_id: id } },
            }),
      ),
    [QUARANTINE],
  );
  const what = (q: Quarantined) => q.subject ?? q.sender ?? q.quarantine_id;
  return (
    <Stack gap="xs">
      <Title order={3} size="h4">
        {t("admin.mail.quarantine")}
      </Title>
      <Text size="sm">{t("admin.mail.quarantineHint")}</Text>
      <ItemsTable
        rows={held.data ?? []}
        rowKey={(q) => q.quarantine_id}
        testId="quarantine-row"
        columns={[
          {
            heading: t("admin.mail.received"),
            cell: (q) =>
              new Date(q.received_at).toLocaleString(i18n.language, {
                dateStyle: "short",
                timeStyle: "short",
              }),
          },
          { heading: t("admin.mail.sender"), cell: (q) => q.sender ?? "—" },
          { heading: t("admin.mail.subject"), cell: (q) => q.subject ?? "—" },
          { heading: t("admin.mail.reason"), cell: (q) => q.reason },
          {
            heading: t("admin.mail.decision"),
            cell: (q) => (
              <Group gap="xs" wrap="nowrap">
                <Button
                  size="xs"
                  variant="default"
                  aria-label={t("admin.mail.releaseMail", { what: what(q) })}
                  onClick={() => settle.mutate({ id: q.quarantine_id, action: "release" })}
                >
                  {t("admin.mail.release")}
                </Button>
                <Button
                  size="xs"
                  color="red"
                  variant="light"
                  aria-label={t("admin.mail.discardMail", { what: what(q) })}
                  onClick={() => settle.mutate({ id: q.quarantine_id, action: "discard" })}
                >
                  {t("admin.mail.discard")}
                </Button>
              </Group>
            ),
          },
        ]}
        empty={t("admin.mail.nothingHeld")}
      />
      <SaveResult error={held.error ?? settle.error} done={settle.isSuccess} />
    </Stack>
  );
}

export default function EmailAdmin() {
  return (
    <Stack>
      <AddInbox />
      <Inboxes />
      <QuarantineList />
    </Stack>
  );
}
