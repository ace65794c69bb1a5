/**
 * Bulk edits of the rows selected in a ticket list: assign, set a status, add a tag. Each
 * ticket is one PATCH with If-Match: the version the agent saw when selecting it, so a ticket
 * someone else changed meanwhile is not overwritten. The report names those (409) and any
 * refused, and offers to apply the same change to the conflicted ones as they are now.
 */
import { Alert, Button, Group, List, Paper, Select, Stack, Text, TextInput } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, ApiError, unwrap, type TicketSummary, type TicketUpdate } from "../shared/api/client";
import { NOTE_COLOR } from "../shared/theme";
import { useAgents, useOptionChoices } from "./data";
import { TOOLS_NS } from "./i18n/register";

/** How many PATCHes are in flight at once: enough to be quick, few enough to be polite. */
const PARALLEL = 4;
const UNASSIGN = "none";

export type Selected = Pick<TicketSummary, "id" | "number" | "subject" | "version">;

interface Outcome {
  ticket: Selected;
  result: "updated" | "conflict" | "failed";
  detail?: string;
}

async function patchOne(ticket: Selected, change: TicketUpdate, version: number | null) {
  const result = await api.PATCH("/tickets/{ticket_id}", {
    params: {
      path: { ticket_id: ticket.id },
      header: version === null ? {} : { "if-match": `"${version}"` },
    },
    body: change,
  });
  if (result.response.status === 409) return "conflict" as const;
  unwrap(result);
  return "updated" as const;
}

async function applyAll(
  tickets: Selected[],
  change: TicketUpdate,
  versionOf: (ticket: Selected) => Promise<number | null>,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (let start = 0; start < tickets.length; start += PARALLEL) {
    const batch = tickets.slice(start, start + PARALLEL);
    outcomes.push(
      ...(await Promise.all(
        batch.map(async (ticket): Promise<Outcome> => {
          try {
            return { ticket, result: await patchOne(ticket, change, await versionOf(ticket)) };
          } catch (caught) {
            const detail = caught instanceof ApiError ? caught.message : String(caught);
            return { ticket, result: "failed", detail };
          }
        }),
      )),
    );
  }
  return outcomes;
}

async function latestVersion(ticket: Selected): Promise<number> {
  const latest = unwrap(
    await api.GET("/tickets/{ticket_id}", { params: { path: { ticket_id: ticket.id } } }),
  );
  return latest.version;
}

export function BulkActions({
  selected,
  onDone,
}: {
  selected: Selected[];
  onDone: (keep: string[]) => void;
}) {
  const { t } = useTranslation(TOOLS_NS);
  const queryClient = useQueryClient();
  const agents = useAgents();
  const choices = useOptionChoices();
  const [assignee, setAssignee] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [tag, setTag] = useState("");
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState<{ outcomes: Outcome[]; change: TicketUpdate } | null>(null);

  const change: TicketUpdate = {};
  if (assignee) change.assignee_id = assignee === UNASSIGN ? null : assignee;
  if (status) change.status = status;
  if (tag.trim()) change.add_tags = [tag.trim()];
  const empty = Object.keys(change).length === 0;

  async function run(tickets: Selected[], what: TicketUpdate, latest: boolean) {
    setBusy(true);
    try {
      const outcomes = await applyAll(tickets, what, (ticket) =>
        latest ? latestVersion(ticket) : Promise.resolve(ticket.version ?? null),
      );
      setReport({ outcomes, change: what });
      void queryClient.invalidateQueries({ queryKey: ["tickets"] });
      void queryClient.invalidateQueries({ queryKey: ["ticket"] });
      // Keep the ones not updated selected, so the agent can look at them.
      onDone(outcomes.filter((o) => o.result !== "updated").map((o) => o.ticket.id));
    } finally {
      setBusy(false);
    }
  }

  const updated = report?.outcomes.filter((o) => o.result === "updated") ?? [];
  const conflicts = report?.outcomes.filter((o) => o.result === "conflict") ?? [];
  const failed = report?.outcomes.filter((o) => o.result === "failed") ?? [];
  const label = (ticket: Selected) => `#${ticket.number ?? "?"} ${ticket.subject}`;

  return (
    <Stack gap="xs">
      {selected.length > 0 && (
        <Paper withBorder p="sm" radius="md" component="section" aria-label={t("bulk.title")}>
          <form
            onSubmit={(event) => {
              event.preventDefault();
              void run(selected, change, false);
            }}
          >
            <Group gap="sm" align="end" wrap="wrap">
              <Text fw={600} size="sm" mb={8}>
                {t("bulk.selected", { count: selected.length })}
              </Text>
              <Select
                label={t("bulk.assign")}
                data={[
                  { value: UNASSIGN, label: t("bulk.unassign") },
                  ...(agents.data ?? []).map((agent) => ({ value: agent.id, label: agent.name })),
                ]}
                value={assignee}
                onChange={setAssignee}
                clearable
                searchable
                w={200}
              />
              <Select
                label={t("bulk.status")}
                data={choices.statuses}
                value={status}
                onChange={setStatus}
                clearable
                w={190}
              />
              <TextInput
                label={t("bulk.tag")}
                value={tag}
                onChange={(event) => setTag(event.currentTarget.value)}
                maxLength={50}
                w={150}
              />
              <Button type="submit" disabled={empty} loading={busy}>
                {t("bulk.apply", { count: selected.length })}
              </Button>
            </Group>
          </form>
        </Paper>
      )}
      {report && (
        <Alert
          color={conflicts.length || failed.length ? NOTE_COLOR : "teal.9"}
          role="status"
          title={t("bulk.report", { count: updated.length })}
          withCloseButton
          closeButtonLabel={t("bulk.dismiss")}
          onClose={() => setReport(null)}
          data-testid="bulk-report"
        >
          {conflicts.length > 0 && (
            <>
              <Text size="sm">{t("bulk.conflicts", { count: conflicts.length })}</Text>
              <List size="sm" mb="xs">
                {conflicts.map((o) => (
                  <List.Item key={o.ticket.id}>{label(o.ticket)}</List.Item>
                ))}
              </List>
              <Button
                size="xs"
                loading={busy}
                onClick={() =>
                  void run(
                    conflicts.map((o) => o.ticket),
                    report.change,
                    true,
                  )
                }
              >
                {t("bulk.retry", { count: conflicts.length })}
              </Button>
            </>
          )}
          {failed.length > 0 && (
            <>
              <Text size="sm">{t("bulk.failed", { count: failed.length })}</Text>
              <List size="sm">
                {failed.map((o) => (
                  <List.Item key={o.ticket.id}>
                    {label(o.ticket)}: {o.detail}
                  </List.Item>
                ))}
              </List>
            </>
          )}
        </Alert>
      )}
    </Stack>
  );
}
