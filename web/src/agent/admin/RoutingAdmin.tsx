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
import { ItemsTable, RemoveButton, SaveResult } from "./common";
import { ItemsEditor } from "./ItemsEditor";
import {
  newRoutingRule,
  ROUTING,
  ROUTING_READ,
  RoutingRuleForm,
  UNASSIGNABLE,
  type RoutingRule,
} from "./RoutingRuleForm";
import { useVersionedChange, useVersionedRead } from "./versioned";

const KNOWN_CHANNELS = ["email", "portal", "agent"];

function useRouting() {
  return useVersionedRead(ROUTING_READ, () => adminApi.GET("/routing"));
}

function ChannelTeams({
  channelTeams,
  teamChoices,
}: {
  channelTeams: Record<string, string>;
  teamChoices: { value: string; label: string }[];
}) {
  const { t } = useTranslation();
  const [other, setOther] = useState("");
  const [otherTeam, setOtherTeam] = useState<string | null>(null);
  const setTeam = useVersionedChange(
    ROUTING,
    async ({ channel, team }: { channel: string; team: string | null }, ifMatch: string) =>
      unwrap(
        await adminApi.PUT("/routing/channels/{channel}", {
          params: { path: { channel }, header: { "If-Match": ifMatch } },
          body: { team_id: team },
        }),
      ),
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
  return (
    <Stack gap="xs">
      <Title order={3} size="h4">
        {t("admin.routing.unassignable")}
      </Title>
      <Text size="sm">{t("admin.routing.unassignableHint")}</Text>
      <ItemsTable
        rows={stuck.data ?? []}
        rowKey={(row) => row.ticket_id}
        testId="unassignable-row"
        columns={[
          {
            heading: t("admin.routing.ticket"),
            cell: (row) => (
              <>
                <Anchor component={Link} to={`/tickets/${row.ticket_id}`}>
                  {t("admin.routing.openTicket", { id: row.ticket_id.slice(0, 8) })}
                </Anchor>
                <Text size="xs" c="dimmed">
                  {[row.priority, row.status].filter(Boolean).join(" · ")}
                </Text>
              </>
            ),
          },
          { heading: t("admin.routing.team"), cell: (row) => teamName(row.team_id) },
          {
            heading: t("admin.routing.reason"),
            cell: (row) => (
              <>
                {t(`admin.routing.reasons.${row.reason}`)}
                {row.detail && (
                  <Text size="xs" c="dimmed">
                    {row.detail}
                  </Text>
                )}
              </>
            ),
          },
          {
            heading: t("admin.routing.since"),
            cell: (row) => (row.since ? new Date(row.since).toLocaleString(i18n.language) : "—"),
          },
        ]}
        empty={t("admin.routing.nothingStuck")}
      />
    </Stack>
  );
}

export default function RoutingAdmin() {
  const { t } = useTranslation();
  const routing = useRouting();
  const teams = useTeams();
  const remove = useVersionedChange(ROUTING, async (ruleId: string, ifMatch: string) =>
    unwrap(
      await adminApi.DELETE("/routing/rules/{rule_id}", {
        params: { path: { rule_id: ruleId }, header: { "If-Match": ifMatch } },
      }),
    ),
  );
  const teamChoices = (teams.data ?? []).map((team) => ({ value: team.id, label: team.name }));
  const names = new Map(teamChoices.map((team) => [team.value, team.label]));
  const teamName = (id: string | null) => (id ? (names.get(id) ?? id) : "—");
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
      <ItemsEditor
        rows={routing.data?.value.rules ?? []}
        rowKey={(rule) => rule.rule_id ?? ""}
        testId="routing-row"
        columns={[
          { heading: t("admin.routing.order"), cell: (rule) => rule.order },
          {
            heading: t("admin.routing.name"),
            cell: (rule) => (
              <>
                {rule.name}{" "}
                {!rule.enabled && <Badge variant="outline">{t("admin.routing.off")}</Badge>}
              </>
            ),
          },
          {
            heading: t("admin.routing.condition"),
            cell: (rule) =>
              rule.condition ? <Code>{rule.condition}</Code> : t("admin.sla.everyTicket"),
          },
          { heading: t("admin.routing.goesTo"), cell: goesTo },
        ]}
        empty={t("admin.routing.none")}
        name={(rule) => rule.name}
        edit={(rule) => rule}
        remove={remove}
        newLabel={t("admin.routing.create")}
        newDraft={newRoutingRule}
        form={(editing) => <RoutingRuleForm {...editing} />}
      />
      <ChannelTeams
        channelTeams={routing.data?.value.channel_teams ?? {}}
        teamChoices={teamChoices}
      />
      <Unassignable teamName={teamName} />
    </Stack>
  );
}
