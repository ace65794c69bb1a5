/**
 * SLA policies (managers), through the gateway's /api/policies: the policies in the order they
 * are tried (the default last) and a form for the whole policy - targets per priority, the
 * statuses that pause or fulfil each metric, the business calendar, the condition, position,
 * active range, default. As the manager types, the SLA service checks the draft as a save would
 * (its 422 message is shown) and says when a ticket of each priority created now would be due.
 */
import {
  Badge,
  Checkbox,
  Code,
  Group,
  NumberInput,
  Paper,
  Stack,
  Table,
  Text,
  TextInput,
} from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { unwrap } from "../../shared/api/client";
import { useTicketOptions } from "../data";
import type { paths } from "../../shared/api/admin-services";
import { adminApi, type AdminSchemas } from "./adminApi";
import { officeHours } from "./CalendarFields";
import { noContent } from "./common";
import { ConditionField, DraftProblem } from "./ConditionField";
import { EditorForm } from "./editing";
import { ItemsEditor, type Editing } from "./ItemsEditor";
import { fromIso, toIso } from "./durations";
import { StatusRules } from "./SlaStatusRules";
import { PolicyCalendar } from "./PolicyCalendar";
import { POLICIES, useSlaChange } from "./slaConfig";
import { useVersionedRead } from "./versioned";

export type Policy = AdminSchemas["PolicyDocument"];
/** A listed policy: the built-in default (``saved`` false) has no position. */
type PolicyView = Omit<Policy, "position"> & { position: number | null; saved: boolean };
interface PolicyList {
  version: number;
  policies: PolicyView[];
}
type Preview =
  paths["/policies/{policy_id}/preview"]["post"]["responses"][200]["content"]["application/json"];

const METRICS = ["first_response", "next_response", "resolution"] as const;
type Metric = (typeof METRICS)[number];
type Written = Record<string, Record<Metric, string>>;

function usePolicies() {
  return useVersionedRead(
    POLICIES,
    () => adminApi.GET("/policies"),
    // The service documents no schema for the list: the shape is GET /policies's.
    (answer: unknown) => (answer as PolicyList).policies,
  );
}

function localInput(iso: string | null): string {
  if (!iso) return "";
  const at = new Date(iso);
  return new Date(at.getTime() - at.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

function fromLocalInput(value: string): string | null {
  return value ? new Date(value).toISOString() : null;
}

/** The draft as the API takes it, or the written target that is not a duration. */
function policyBody(policy: Policy, written: Written): Policy | { badTarget: string } {
  const targets: Policy["targets"] = {};
  for (const [priority, row] of Object.entries(written)) {
    if (METRICS.every((m) => !row[m].trim())) continue;
    const iso = Object.fromEntries(METRICS.map((m) => [m, toIso(row[m])]));
    const bad = METRICS.find((m) => iso[m] === undefined);
    if (bad) return { badTarget: `${priority}: ${row[bad]}` };
    targets[priority] = {
      first_response: iso.first_response ?? "",
      next_response: iso.next_response ?? null,
      resolution: iso.resolution ?? null,
    };
  }
  return { ...policy, targets };
}

function newPolicy(priorities: string[]): Policy {
  const medium = priorities[Math.floor(priorities.length / 2)] ?? "Medium";
  return {
    policy_id: "",
    name: "",
    position: 10,
    is_default: false,
    condition: null,
    active_from: null,
    active_to: null,
    calendar: officeHours(),
    calendar_id: null,
    holiday_list_ids: [],
    use_team_calendar: false,
    targets: {},
    default_priority: medium,
    pausing: {
      paused: ["next_response", "resolution"],
      resolved: ["first_response", "next_response"],
      closed: ["first_response", "next_response"],
    },
    fulfilling: { resolved: ["resolution"], closed: ["resolution"] },
    pausing_statuses: {},
    fulfilling_statuses: {},
  };
}

/** A listed policy as the form edits it: without the list's ``saved``, with a position. */
function editable(view: PolicyView): Policy {
  const policy: Omit<PolicyView, "saved"> & { saved?: boolean } = { ...view };
  delete policy.saved;
  return { ...policy, position: policy.position ?? 0 };
}

function PreviewLines({ preview }: { preview: Preview }) {
  const { t, i18n } = useTranslation();
  const when = (at: string | null) =>
    at
      ? new Date(at).toLocaleString(i18n.language, {
          dateStyle: "medium",
          timeStyle: "short",
          timeZone: preview.time_zone,
        })
      : t("admin.sla.noTarget");
  return (
    <Stack gap={2} data-testid="sla-preview" aria-live="polite">
      {preview.priorities.map((p) => (
        <Text size="sm" key={p.priority}>
          {t("admin.sla.previewLine", {
            priority: p.priority,
            firstResponse: when(p.due_at.first_response),
            resolution: when(p.due_at.resolution),
            zone: preview.time_zone,
          })}
        </Text>
      ))}
    </Stack>
  );
}

function PolicyForm({ draft: initial, isNew, onDone }: Editing<Policy>) {
  const { t } = useTranslation();
  const options = useTicketOptions();
  const priorities = options.data?.priorities ?? Object.keys(initial.targets);
  const [policy, setPolicy] = useState<Policy>(initial);
  const [written, setWritten] = useState<Written>(() =>
    Object.fromEntries(
      [...new Set([...priorities, ...Object.keys(initial.targets)])].map((p) => [
        p,
        {
          first_response: fromIso(initial.targets[p]?.first_response),
          next_response: fromIso(initial.targets[p]?.next_response),
          resolution: fromIso(initial.targets[p]?.resolution),
        },
      ]),
    ),
  );
  const set = (change: Partial<Policy>) => setPolicy({ ...policy, ...change });
  const body = policyBody(policy, written);
  const [draft] = useDebouncedValue(body, 400);
  const previewId = policy.policy_id || "draft";
  const preview = useQuery({
    queryKey: ["sla-preview", previewId, draft],
    enabled: !("badTarget" in draft),
    retry: false,
    placeholderData: keepPreviousData,
    queryFn: async (): Promise<Preview> =>
      unwrap(
        await adminApi.POST("/policies/{policy_id}/preview", {
          params: { path: { policy_id: previewId } },
          body: { ...(draft as Policy), policy_id: previewId },
        }),
      ),
  });
  const save = useSlaChange(async (saved: Policy, ifMatch: string) =>
    unwrap<unknown>(
      await adminApi.PUT("/policies/{policy_id}", {
        params: { path: { policy_id: saved.policy_id ?? "" }, header: { "If-Match": ifMatch } },
        body: saved,
      }),
    ),
  );
  const problem =
    "badTarget" in body
      ? t("admin.sla.badDuration", { value: body.badTarget })
      : preview.isError
        ? preview.error.message
        : null;
  const submit = () => {
    if ("badTarget" in body) return;
    save.mutate(body, { onSuccess: onDone });
  };
  const cell = (priority: string, metric: Metric) => (
    <TextInput
      aria-label={t("admin.sla.targetOf", { priority, metric: t(`admin.sla.metrics.${metric}`) })}
      placeholder={metric === "first_response" ? "4h" : "—"}
      value={written[priority]?.[metric] ?? ""}
      onChange={(e) =>
        setWritten({
          ...written,
          [priority]: {
            first_response: "",
            next_response: "",
            resolution: "",
            ...written[priority],
            [metric]: e.currentTarget.value,
          },
        })
      }
      w={120}
    />
  );
  return (
    <EditorForm
      label={t("admin.sla.form")}
      title={isNew ? t("admin.sla.create") : t("admin.sla.edit", { name: initial.name })}
      saving={save.isPending}
      invalid={problem !== null}
      error={save.error}
      onSave={submit}
      onCancel={onDone}
    >
      <Group align="end" grow>
        <TextInput
          label={t("admin.sla.id")}
          description={t("admin.sla.idHint")}
          required
          disabled={!isNew}
          pattern="[A-Za-z0-9][A-Za-z0-9_.:-]*"
          value={policy.policy_id}
          onChange={(e) => set({ policy_id: e.currentTarget.value })}
        />
        <TextInput
          label={t("admin.sla.name")}
          required
          value={policy.name}
          onChange={(e) => set({ name: e.currentTarget.value })}
        />
        <NumberInput
          label={t("admin.sla.position")}
          description={t("admin.sla.positionHint")}
          value={policy.position}
          onChange={(v) => set({ position: Number(v) || 0 })}
        />
      </Group>
      <Checkbox
        label={t("admin.sla.isDefault")}
        checked={policy.is_default}
        onChange={(e) => set({ is_default: e.currentTarget.checked })}
      />
      <Text size="sm" fw={500}>
        {t("admin.sla.targets")}
      </Text>
      <Text size="sm" c="dimmed">
        {t("admin.sla.targetsHint")}
      </Text>
      <Table.ScrollContainer minWidth={560}>
        <Table>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("admin.sla.priority")}</Table.Th>
              {METRICS.map((m) => (
                <Table.Th key={m}>{t(`admin.sla.metrics.${m}`)}</Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {Object.keys(written).map((priority) => (
              <Table.Tr key={priority}>
                <Table.Td>{priority}</Table.Td>
                {METRICS.map((m) => (
                  <Table.Td key={m}>{cell(priority, m)}</Table.Td>
                ))}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <TextInput
        label={t("admin.sla.defaultPriority")}
        description={t("admin.sla.defaultPriorityHint")}
        value={policy.default_priority}
        onChange={(e) => set({ default_priority: e.currentTarget.value })}
        w={260}
      />
      <StatusRules policy={policy} onChange={set} />
      <PolicyCalendar policy={policy} onChange={set} />
      {!policy.is_default && (
        <>
          <ConditionField
            label={t("admin.sla.condition")}
            value={policy.condition ?? ""}
            onChange={(expression) => set({ condition: expression.trim() ? expression : null })}
          />
          <Group grow>
            <TextInput
              type="datetime-local"
              label={t("admin.sla.activeFrom")}
              value={localInput(policy.active_from)}
              onChange={(e) => set({ active_from: fromLocalInput(e.currentTarget.value) })}
            />
            <TextInput
              type="datetime-local"
              label={t("admin.sla.activeTo")}
              value={localInput(policy.active_to)}
              onChange={(e) => set({ active_to: fromLocalInput(e.currentTarget.value) })}
            />
          </Group>
        </>
      )}
      <Paper withBorder p="sm" bg="var(--mantine-color-default-hover)">
        <Text size="sm" fw={500} mb={4}>
          {t("admin.sla.preview")}
        </Text>
        {problem ? (
          <DraftProblem problem={problem} />
        ) : preview.data ? (
          <PreviewLines preview={preview.data} />
        ) : (
          <Text size="sm">{t("common.loading")}</Text>
        )}
      </Paper>
    </EditorForm>
  );
}

export default function SlaAdmin() {
  const { t } = useTranslation();
  const policies = usePolicies();
  const options = useTicketOptions();
  const remove = useSlaChange(async (policyId: string, ifMatch: string) =>
    noContent(
      await adminApi.DELETE("/policies/{policy_id}", {
        params: { path: { policy_id: policyId }, header: { "If-Match": ifMatch } },
      }),
    ),
  );
  return (
    <Stack>
      <Text size="sm">{t("admin.sla.hint")}</Text>
      <ItemsEditor
        rows={policies.data?.value ?? []}
        rowKey={(p) => p.policy_id ?? ""}
        testId="policy-row"
        columns={[
          { heading: t("admin.sla.position"), cell: (p) => (p.is_default ? "—" : p.position) },
          {
            heading: t("admin.sla.name"),
            cell: (p) => (
              <>
                {p.name} {p.is_default && <Badge variant="light">{t("admin.sla.default")}</Badge>}
                {!p.saved && <Badge variant="outline">{t("admin.sla.builtIn")}</Badge>}
              </>
            ),
          },
          {
            heading: t("admin.sla.condition"),
            cell: (p) => (p.condition ? <Code>{p.condition}</Code> : t("admin.sla.everyTicket")),
          },
          {
            heading: t("admin.sla.calendarZone"),
            cell: (p) => p.calendar?.time_zone ?? p.calendar_id ?? "",
          },
        ]}
        empty={t("admin.sla.none")}
        name={(p) => p.name}
        edit={editable}
        deletable={(p) => p.saved && !p.is_default}
        remove={remove}
        newLabel={t("admin.sla.create")}
        newDraft={() => newPolicy(options.data?.priorities ?? [])}
        form={(editing) => <PolicyForm {...editing} />}
      />
    </Stack>
  );
}
