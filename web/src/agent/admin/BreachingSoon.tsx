/**
 * The breaching-soon list (managers; a reports screen): the running SLA metrics due within a
 * chosen window or already breached, soonest first, from the SLA service's
 * /api/sla/breaching-soon, each linking to its ticket (whose subject the ticket service gives).
 */
import { Anchor, Badge, Group, Select, Stack, Text } from "@mantine/core";
import { useQueries, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { api, unwrap } from "../../shared/api/client";
import { useAgents, useTeams } from "../data";
import { adminApi } from "./adminApi";
import { ItemsTable } from "./common";
import { written } from "./durations";

interface Item {
  ticket_id: string;
  metric: "first_response" | "next_response" | "resolution";
  due_at: string | null;
  remaining_seconds: number;
  breached: boolean;
  priority: string;
  team_id: string | null;
  assignee_id: string | null;
}

const WINDOWS = ["PT1H", "PT2H", "PT8H", "P1D", "P7D"] as const;
/** The most rows shown (each fetches its ticket's subject). */
const SHOWN = 50;

export default function BreachingSoon() {
  const { t, i18n } = useTranslation();
  const [within, setWithin] = useState<string>("PT8H");
  const [teamId, setTeamId] = useState<string | null>(null);
  const teams = useTeams();
  const agents = useAgents();
  const list = useQuery({
    queryKey: ["breaching-soon", within, teamId],
    refetchInterval: 30_000,
    queryFn: async () => {
      const answer = unwrap<unknown>(
        await adminApi.GET("/sla/breaching-soon", {
          params: { query: { within, team_id: teamId ?? undefined } },
        }),
      ) as { items: Item[] };
      return answer.items.slice(0, SHOWN);
    },
  });
  const items = list.data ?? [];
  const tickets = useQueries({
    queries: [...new Set(items.map((item) => item.ticket_id))].map((id) => ({
      queryKey: ["ticket", id],
      queryFn: async () =>
        unwrap(await api.GET("/tickets/{ticket_id}", { params: { path: { ticket_id: id } } })),
      staleTime: 60_000,
    })),
  });
  const subjects = new Map(
    tickets.flatMap((q) => (q.data ? [[q.data.id, `#${q.data.number} ${q.data.subject}`]] : [])),
  );
  const teamName = new Map((teams.data ?? []).map((team) => [team.id, team.name]));
  const agentName = new Map((agents.data ?? []).map((agent) => [agent.id, agent.name]));
  const when = (at: string | null) =>
    at
      ? new Date(at).toLocaleString(i18n.language, { dateStyle: "medium", timeStyle: "short" })
      : "—";
  return (
    <Stack>
      <Text size="sm">{t("admin.breaching.hint")}</Text>
      <Group align="end">
        <Select
          label={t("admin.breaching.within")}
          data={WINDOWS.map((w) => ({ value: w, label: t(`admin.breaching.windows.${w}`) }))}
          value={within}
          onChange={(w) => w && setWithin(w)}
          allowDeselect={false}
        />
        <Select
          label={t("admin.breaching.team")}
          placeholder={t("admin.breaching.allTeams")}
          data={(teams.data ?? []).map((team) => ({ value: team.id, label: team.name }))}
          value={teamId}
          onChange={setTeamId}
          clearable
        />
      </Group>
      <ItemsTable
        rows={items}
        rowKey={(item) => `${item.ticket_id}-${item.metric}`}
        testId="breaching-row"
        columns={[
          {
            heading: t("admin.breaching.ticket"),
            cell: (item) => (
              <Anchor component={Link} to={`/tickets/${item.ticket_id}`}>
                {subjects.get(item.ticket_id) ?? item.ticket_id}
              </Anchor>
            ),
          },
          {
            heading: t("admin.breaching.metric"),
            cell: (item) => t(`admin.sla.metrics.${item.metric}`),
          },
          { heading: t("admin.breaching.due"), cell: (item) => when(item.due_at) },
          {
            heading: t("admin.breaching.left"),
            cell: (item) =>
              item.breached ? (
                <Badge color="red">
                  {t("admin.breaching.breached", {
                    by: written(Math.max(60, -item.remaining_seconds)),
                  })}
                </Badge>
              ) : (
                written(Math.max(60, item.remaining_seconds))
              ),
          },
          { heading: t("admin.sla.priority"), cell: (item) => item.priority },
          {
            heading: t("admin.breaching.team"),
            cell: (item) => (item.team_id ? (teamName.get(item.team_id) ?? item.team_id) : "—"),
          },
          {
            heading: t("admin.breaching.assignee"),
            cell: (item) =>
              item.assignee_id ? (agentName.get(item.assignee_id) ?? item.assignee_id) : "—",
          },
        ]}
        empty={list.isLoading ? t("common.loading") : t("admin.breaching.none")}
      />
    </Stack>
  );
}
