/**
 * Bulk edits of the rows selected in a ticket list: assign, set a status, add a tag. Each
 * ticket is one PATCH with If-Match: the version the agent saw when selecting it, so a ticket
 * someone else changed meanwhile is not overwritten. The report names those (409) and any
 * refused, and offers to apply the same change to the conflicted ones as they are now.
 *
 * With a whole page selected, the agent may select every ticket matching the view (all pages):
 * applying then first pages through GET /tickets (ordered by number, which nobody changes, so
 * no ticket is seen twice or skipped while others edit) and takes each ticket's version as it
 * is then for its If-Match; only then does it change them (a change may move tickets out of
 * the view, which would shift the pages under a reader that edited as it went). A progress bar
 * counts both steps.
 */
import {
  Alert,
  Button,
  Group,
  List,
  Paper,
  Progress,
  Select,
  Stack,
  Text,
  TextInput,
} from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, ApiError, unwrap, type TicketSummary, type TicketUpdate } from "../shared/api/client";
import { NOTE_COLOR } from "../shared/theme";
import { useAgents, useOptionChoices } from "./data";
import { LIVE_NS, TOOLS_NS } from "./i18n/register";
import type { TicketQuery } from "./views";

/** How many PATCHes are in flight at once: enough to be quick, few enough to be polite. */
const PARALLEL = 4;
/** The largest page GET /tickets serves. */
const COLLECT_PAGE = 200;
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

/** Every ticket the list query matches, all pages (see the module's comment). */
async function collectMatching(
  query: TicketQuery,
  onProgress: (done: number, total: number) => void,
): Promise<Selected[]> {
  const found = new Map<string, Selected>();
  for (let page = 1; ; page += 1) {
    const result = unwrap(
      await api.GET("/tickets", {
        params: { query: { ...query, sort: "-number", page, page_size: COLLECT_PAGE } },
      }),
    );
    for (const item of result.items) {
      found.set(item.id, {
        id: item.id,
        number: item.number,
        subject: item.subject,
        version: item.version,
      });
    }
    onProgress(found.size, result.total);
    if (result.items.length < COLLECT_PAGE || page * COLLECT_PAGE >= result.total) break;
  }
  return [...found.values()];
}

async function applyAll(
  tickets: Selected[],
  change: TicketUpdate,
  versionOf: (ticket: Selected) => Promise<number | null>,
  onProgress?: (done: number) => void,
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
    onProgress?.(outcomes.length);
  }
  return outcomes;
}

async function latestVersion(ticket: Selected): Promise<number> {
  const latest = unwrap(
    await api.GET("/tickets/{ticket_id}", { params: { path: { ticket_id: ticket.id } } }),
  );
  return latest.version;
}

/** Every ticket of a list query (all its pages), as "select all N matching" chose it. */
export interface Matching {
  query: TicketQuery;
  total: number;
}

interface Progressing {
  step: "collecting" | "applying";
  done: number;
  total: number;
}

export function BulkActions({
  selected,
  pageTotal,
  matching,
  onMatching,
  onDone,
}: {
  selected: Selected[];
  /** The list's page is wholly selected and the view holds this many tickets (or null). */
  pageTotal: number | null;
  matching: Matching | null;
  onMatching: (on: boolean) => void;
  onDone: (keep: string[]) => void;
}) {
  const { t } = useTranslation(TOOLS_NS);
  const { t: tl } = useTranslation(LIVE_NS);
  const [progress, setProgress] = useState<Progressing | null>(null);
  const queryClient = useQueryClient();
  const agents = useAgents();
  const choices = useOptionChoices();
  const [assignee, setAssignee] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [tag, setTag] = useState("");
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState<{
    outcomes: Outcome[];
    change: TicketUpdate;
    error?: string;
  } | null>(null);

  const change: TicketUpdate = {};
  if (assignee) change.assignee_id = assignee === UNASSIGN ? null : assignee;
  if (status) change.status = status;
  if (tag.trim()) change.add_tags = [tag.trim()];
  const empty = Object.keys(change).length === 0;

  async function run(tickets: Selected[] | Matching, what: TicketUpdate, latest: boolean) {
    setBusy(true);
    try {
      let chosen: Selected[];
      if (Array.isArray(tickets)) {
        chosen = tickets;
      } else {
        setProgress({ step: "collecting", done: 0, total: tickets.total });
        chosen = await collectMatching(tickets.query, (done, total) =>
          setProgress({ step: "collecting", done, total }),
        );
      }
      setProgress({ step: "applying", done: 0, total: chosen.length });
      const outcomes = await applyAll(
        chosen,
        what,
        (ticket) => (latest ? latestVersion(ticket) : Promise.resolve(ticket.version ?? null)),
        (done) => setProgress({ step: "applying", done, total: chosen.length }),
      );
      setReport({ outcomes, change: what });
      void queryClient.invalidateQueries({ queryKey: ["tickets"] });
      void queryClient.invalidateQueries({ queryKey: ["ticket"] });
      // Keep the ones not updated selected, so the agent can look at them.
      onDone(outcomes.filter((o) => o.result !== "updated").map((o) => o.ticket.id));
    } catch (caught) {
      // Collecting failed (nothing was changed yet): say so in the report.
      const detail = caught instanceof ApiError ? caught.message : String(caught);
      setReport({ outcomes: [], change: what, error: detail });
    } finally {
      setBusy(false);
      setProgress(null);
    }
  }
  const count = matching ? matching.total : selected.length;

  const updated = report?.outcomes.filter((o) => o.result === "updated") ?? [];
  const conflicts = report?.outcomes.filter((o) => o.result === "conflict") ?? [];
  const failed = report?.outcomes.filter((o) => o.result === "failed") ?? [];
  const label = (ticket: Selected) => `#${ticket.number ?? "?"} ${ticket.subject}`;

  return (
    <Stack gap="xs">
      {(selected.length > 0 || matching) && (
        <Paper withBorder p="sm" radius="md" component="section" aria-label={t("bulk.title")}>
          <form
            onSubmit={(event) => {
              event.preventDefault();
              void run(matching ?? selected, change, false);
            }}
          >
            <Group gap="sm" align="end" wrap="wrap">
              <Text fw={600} size="sm" mb={8}>
                {matching
                  ? tl("matching.selected", { count: matching.total })
                  : t("bulk.selected", { count: selected.length })}
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
                {t("bulk.apply", { count })}
              </Button>
            </Group>
          </form>
          {pageTotal !== null && !matching && (
            <Group gap="xs" mt="xs">
              <Text size="sm">{tl("matching.pageSelected", { count: selected.length })}</Text>
              <Button size="compact-sm" variant="light" onClick={() => onMatching(true)}>
                {tl("matching.selectAll", { count: pageTotal })}
              </Button>
            </Group>
          )}
          {matching && (
            <Group gap="xs" mt="xs">
              <Button
                size="compact-sm"
                variant="subtle"
                onClick={() => onMatching(false)}
                disabled={busy}
              >
                {tl("matching.clear")}
              </Button>
            </Group>
          )}
          {progress && (
            <Stack gap={4} mt="xs">
              <Text size="sm" id="bulk-progress-label">
                {tl(progress.step === "collecting" ? "matching.collecting" : "matching.applying", {
                  done: progress.done,
                  total: progress.total,
                })}
              </Text>
              <Progress
                value={progress.total ? (100 * progress.done) / progress.total : 0}
                aria-labelledby="bulk-progress-label"
                data-testid="bulk-progress"
              />
            </Stack>
          )}
        </Paper>
      )}
      {report && (
        <Alert
          color={conflicts.length || failed.length || report.error ? NOTE_COLOR : "teal.9"}
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
          {report.error && <Text size="sm">{tl("matching.failed", { detail: report.error })}</Text>}
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
