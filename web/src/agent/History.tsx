/**
 * The ticket's history, read from its event log (`GET /tickets/{id}/timeline`): who changed
 * what and when, newest first, in the agent's language and time zone. It follows the ticket's
 * version, so a change made anywhere shows up with the ticket.
 */
import { Paper, Text, Timeline, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import type { TFunction } from "i18next";
import { useTranslation } from "react-i18next";
import { api, unwrap, type Schemas, type Ticket } from "../shared/api/client";
import { formatDateTime, useTimeZone } from "../shared/i18n/timezone";
import { nameOf, useAgents, useTeams } from "./data";
import { AGENT_NS } from "./i18n/register";

type Entry = Schemas["TimelineEntry"];
type Lookup = (id: unknown) => string;

function text(value: unknown): string {
  if (value === null || value === undefined || value === "") return "—";
  return typeof value === "string" || typeof value === "number" ? String(value) : "…";
}

function list(value: unknown): string[] {
  return Array.isArray(value) ? value.map(text) : [];
}

/** One sentence for an event; an event this screen does not know keeps its name. */
export function describe(entry: Entry, t: TFunction, agent: Lookup, team: Lookup): string {
  const d = entry.data;
  switch (entry.event_type) {
    case "TicketCreated":
      return t("history.created", { channel: text(d.channel) });
    case "StatusChanged":
      return t("history.status", { from: text(d.from_status), to: text(d.to_status) });
    case "PriorityChanged":
      return t("history.priority", { from: text(d.from_priority), to: text(d.to_priority) });
    case "TicketFieldsChanged":
      return (Array.isArray(d.changes) ? (d.changes as Record<string, unknown>[]) : [])
        .map((c) =>
          t("history.field", { field: text(c.field), from: text(c.old), to: text(c.new) }),
        )
        .join("; ");
    case "TagsChanged":
      return t("history.tags", {
        tags: [...list(d.added).map((x) => `+${x}`), ...list(d.removed).map((x) => `−${x}`)].join(
          " ",
        ),
      });
    case "TeamChanged":
      return t("history.team", { from: team(d.from_team_id), to: team(d.to_team_id) });
    case "TicketAssigned":
      return t("history.assigned", { name: agent(d.assignee_id) });
    case "TicketUnassigned":
      return t("history.unassigned");
    case "MessageAdded":
      return t(d.visibility === "internal" ? "history.note" : "history.reply");
    case "TicketMerged":
      return t("history.mergedInto", { number: text(d.parent_number) });
    case "ChildTicketMerged":
      return t("history.mergedHere", { number: text(d.child_number) });
    default:
      return entry.event_type.replace(/([a-z])([A-Z])/g, "$1 $2");
  }
}

function actorName(entry: Entry, t: TFunction): string {
  const actor = entry.actor;
  for (const key of ["name", "display_name", "email"]) {
    const value = actor[key];
    if (typeof value === "string" && value) return value;
  }
  return actor.kind === "service" ? t("history.system") : text(actor.kind);
}

export function History({ ticket }: { ticket: Ticket }) {
  const { t } = useTranslation(AGENT_NS);
  const { i18n } = useTranslation();
  const zone = useTimeZone();
  const agents = useAgents();
  const teams = useTeams();
  const timeline = useQuery({
    queryKey: ["tickets", ticket.id, "timeline", ticket.version],
    queryFn: async () =>
      unwrap(
        await api.GET("/tickets/{ticket_id}/timeline", {
          params: { path: { ticket_id: ticket.id } },
        }),
      ),
  });
  const agent: Lookup = (id) =>
    nameOf(agents.data, typeof id === "string" ? id : null) ?? t("history.someone");
  const team: Lookup = (id) =>
    nameOf(teams.data, typeof id === "string" ? id : null) ?? t("history.noTeam");
  const entries = [...(timeline.data ?? [])].reverse();
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby="history-title">
      <Title order={3} size="h5" id="history-title" mb="sm">
        {t("history.title")}
      </Title>
      <Timeline bulletSize={12} lineWidth={2} component="ol" aria-labelledby="history-title">
        {entries.map((entry) => (
          <Timeline.Item key={entry.version} component="li" title={describe(entry, t, agent, team)}>
            <Text size="xs" c="dimmed">
              {actorName(entry, t)} ·{" "}
              <time dateTime={entry.occurred_at}>
                {formatDateTime(entry.occurred_at, i18n.resolvedLanguage ?? "en", zone)}
              </time>
            </Text>
          </Timeline.Item>
        ))}
      </Timeline>
    </Paper>
  );
}
