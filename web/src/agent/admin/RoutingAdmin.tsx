/**
 * Team routing (managers), through the gateway's /api/routing and /api/unassignable: the routing
 * rules in the order they are tried (a ticket without a team goes to the first matching rule's
 * team), the team each channel's unrouted tickets go to, and the open tickets no rule could route
 * or assign with the reason - so a manager sees what their rules leave out and opens the ticket.
 */
import {
  Anchor,
  Badge,
  Button,
  Code,
  Group,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { unwrap } from "../../shared/api/client";
import { useTeams } from "../data";
import { adminApi } from "./adminApi";
import { ListTable, RemoveButton, SaveResult, useSaving } from "./common";
import { FormOrNew, RowActions } from "./editing";
import { newRoutingRule, ROUTING, RoutingRuleForm, type RoutingRule } from "./RoutingRuleForm";

const KNOWN_CHANNELS = ["email", "portal", "agent"];
const UNASSIGNABLE = ["unassignable"];

function useRouting() {
  return useQuery({
    queryKey: ROUTING,
    queryFn: async () => {
      const result = await adminApi.GET("/routing");
      return { document: unwrap(result), etag: result.response.headers.get("ETag") ?? "" };
    },
  });
}

function ChannelTeams({
  channelTeams,
  etag,
  teamChoices,
}: {
  channelTeams: Record<string, string>;
  etag: string;
  teamChoices: { value: string; label: string }[];
}) {
  const { t } = useTranslation();
  const [other, setOther] = useState("");
  const [otherTeam, setOtherTeam] = useState<string | null>(null);
  const setTeam = useSaving(
    async ({ channel, team }: { channel: string; team: string | null }) =>
      unwrap(
        await adminApi.PUT("/routing/channels/{channel}", {
          params: { path: { channel }, header: { "If-Match": etag } },
          body: { team_id: team },
        }),
      ),
    [ROUTING, UNASSIGNABLE],
  );
  const channels = [...new Set([...KNOWN_CHANNELS, ...Object.keys(channelTeams)])];
  const channelName = (channel: string) =>
    KNOWN_CHANNELS.includes(channel) ? t(`admin.routing.channelNames.${channel}`) : channel;
  return (
    <Stack gap="xs">
      <Title order={3} size="h4">
        {t("admin.routing.channels")}
      </Title>
      <Text size="sm">{t("admin.routing.channelsHint")}</Text>
      {channels.map((channel) => (
        <Group key={channel} align="end" data-testid="channel-row">
          <Text w={180} size="sm" fw={500}>
            {channelName(channel)}
          </Text>
          <Select
            aria-label={t("admin.routing.channelTeam", { channel: channelName(channel) })}
            placeholder={t("admin.routing.noTeam")}
            data={teamChoices}
            value={channelTeams[channel] ?? null}
            onChange={(team) => setTeam.mutate({ channel, team })}
            searchable
            w={280}
          />
          {channelTeams[channel] && (
            <RemoveButton
              what={t("admin.routing.channelTeam", { channel: channelName(channel) })}
              onRemove={() => setTeam.mutate({ channel, team: null })}
            />
          )}
        </Group>
      ))}
      <Group align="end">
        <TextInput
          label={t("admin.routing.otherChannel")}
          value={other}
          maxLength={50}
          onChange={(e) => setOther(e.currentTarget.value.trim())}
          w={180}
        />
        <Select
          label={t("admin.routing.team")}
          data={teamChoices}
          value={otherTeam}
          onChange={setOtherTeam}
          searchable
          w={280}
        />
        <Button
          variant="default"
          disabled={!other || !otherTeam || channels.includes(other)}
          onClick={() =>
            setTeam.mutate({ channel: other, team: otherTeam }, { onSuccess: () => setOther("") })
          }
        >
          {t("admin.routing.addChannel")}
        </Button>
      </Group>
      <SaveResult error={setTeam.error} done={setTeam.isSuccess} />
    </Stack>
  );
}

function Unassignable({ teamName }: { teamName: (id: string | null) => string }) {
  const { t, i18n } = useTranslation();
  const stuck = useQuery({
    queryKey: UNASSIGNABLE,
    queryFn: async () => unwrap(await adminApi.GET("/unassignable")).tickets,
    refetchInterval: 30_000,
  });
  const rows = stuck.data ?? [];
  return (
    <Stack gap="xs">
      <Title order={3} size="h4">
        {t("admin.routing.unassignable")}
      </Title>
      <Text size="sm">{t("admin.routing.unassignableHint")}</Text>
      <ListTable
        headings={[
          t("admin.routing.ticket"),
          t("admin.routing.team"),
          t("admin.routing.reason"),
          t("admin.routing.since"),
        ]}
        empty={t("admin.routing.nothingStuck")}
        count={rows.length}
      >
        {rows.map((row) => (
          <Table.Tr key={row.ticket_id} data-testid="unassignable-row">
            <Table.Td>
              <Anchor component={Link} to={`/tickets/${row.ticket_id}`}>
                {t("admin.routing.openTicket", { id: row.ticket_id.slice(0, 8) })}
              </Anchor>
              <Text size="xs" c="dimmed">
                {[row.priority, row.status].filter(Boolean).join(" · ")}
              </Text>
            </Table.Td>
            <Table.Td>{teamName(row.team_id)}</Table.Td>
            <Table.Td>
              {t(`admin.routing.reasons.${row.reason}`)}
              {row.detail && (
                <Text size="xs" c="dimmed">
                  {row.detail}
                </Text>
              )}
            </Table.Td>
            <Table.Td>
              {row.since ? new Date(row.since).toLocaleString(i18n.language) : "—"}
            </Table.Td>
          </Table.Tr>
        ))}
      </ListTable>
    </Stack>
  );
}

export default function RoutingAdmin() {
  const { t } = useTranslation();
  const routing = useRouting();
  const teams = useTeams();
  const [editing, setEditing] = useState<{ rule: RoutingRule; isNew: boolean } | null>(null);
  const etag = routing.data?.etag ?? "";
  const remove = useSaving(
    async (ruleId: string) =>
      unwrap(
        await adminApi.DELETE("/routing/rules/{rule_id}", {
          params: { path: { rule_id: ruleId }, header: { "If-Match": etag } },
        }),
      ),
    [ROUTING, UNASSIGNABLE],
  );
  const teamChoices = (teams.data ?? []).map((team) => ({ value: team.id, label: team.name }));
  const names = new Map(teamChoices.map((team) => [team.value, team.label]));
  const teamName = (id: string | null) => (id ? (names.get(id) ?? id) : "—");
  const rules = routing.data?.document.rules ?? [];
  const goesTo = (rule: RoutingRule) =>
    rule.by_language
      ? `${t("admin.routing.anyLanguageTeam")}${rule.teams.length ? `: ${rule.teams.map(teamName).join(", ")}` : ""}`
      : teamName(rule.team_id);
  return (
    <Stack>
      <Text size="sm">{t("admin.routing.hint")}</Text>
      <Title order={3} size="h4">
        {t("admin.routing.rules")}
      </Title>
      <ListTable
        headings={[
          t("admin.routing.order"),
          t("admin.routing.name"),
          t("admin.routing.condition"),
          t("admin.routing.goesTo"),
          t("admin.sla.actions"),
        ]}
        empty={t("admin.routing.none")}
        count={rules.length}
      >
        {rules.map((rule) => (
          <Table.Tr key={rule.rule_id} data-testid="routing-row">
            <Table.Td>{rule.order}</Table.Td>
            <Table.Td>
              {rule.name}{" "}
              {!rule.enabled && <Badge variant="outline">{t("admin.routing.off")}</Badge>}
            </Table.Td>
            <Table.Td>
              {rule.condition ? <Code>{rule.condition}</Code> : t("admin.sla.everyTicket")}
            </Table.Td>
            <Table.Td>{goesTo(rule)}</Table.Td>
            <Table.Td>
              <RowActions
                name={rule.name}
                onEdit={() => setEditing({ rule, isNew: false })}
                onDelete={() => remove.mutate(rule.rule_id ?? "")}
              />
            </Table.Td>
          </Table.Tr>
        ))}
      </ListTable>
      <SaveResult error={remove.error} done={remove.isSuccess} />
      <FormOrNew
        form={
          editing && (
            <RoutingRuleForm
              key={editing.rule.rule_id || "new"}
              initial={editing.rule}
              isNew={editing.isNew}
              etag={etag}
              onDone={() => setEditing(null)}
            />
          )
        }
        newLabel={t("admin.routing.create")}
        onNew={() => setEditing({ rule: newRoutingRule(), isNew: true })}
      />
      <ChannelTeams
        channelTeams={routing.data?.document.channel_teams ?? {}}
        etag={etag}
        teamChoices={teamChoices}
      />
      <Unassignable teamName={teamName} />
    </Stack>
  );
}
