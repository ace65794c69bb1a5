import {
  Alert,
  Button,
  Group,
  List,
  Paper,
  Select,
  Stack,
  TagsInput,
  Text,
  Title,
} from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, ApiError, unwrap, type Ticket } from "../shared/api/client";
import {
  nameOf,
  useAgentChoices,
  useAgents,
  useMe,
  useOptionChoices,
  useTeams,
  useTicketOptions,
} from "./data";
import { NOTE_COLOR } from "../shared/theme";
import { ticketKey } from "./queries";
import { changes, draftOf, rebase, updateBody, type Change, type Draft } from "./fields";

interface Conflict {
  latest: Ticket;
  theirs: Change[];
}

/**
 * The ticket's fields, saved together with If-Match: the version the agent saw. When someone
 * else changed the ticket meanwhile (409), the panel shows what they changed and lets the agent
 * re-apply their own changes on the latest version, or take the latest as it is.
 */
export function FieldsPanel({ ticket }: { ticket: Ticket }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const options = useTicketOptions();
  const choices = useOptionChoices();
  const agents = useAgents();
  const teams = useTeams();
  const me = useMe();
  const [base, setBase] = useState<{ version: number; draft: Draft }>(() => ({
    version: ticket.version,
    draft: draftOf(ticket),
  }));
  const [draft, setDraft] = useState<Draft>(() => draftOf(ticket));
  const teamAgents = useAgentChoices(draft.team_id);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const mine = useMemo(() => changes(base.draft, draft), [base, draft]);
  const dirty = mine.length > 0;

  // A newer version from a refetch replaces the form while the agent has not edited it
  // (state adjusted during render, as React recommends instead of an effect).
  if (!dirty && !conflict && !saving && ticket.version !== base.version) {
    setBase({ version: ticket.version, draft: draftOf(ticket) });
    setDraft(draftOf(ticket));
  }

  function set<K extends keyof Draft>(field: K, value: Draft[K]) {
    setSaved(false);
    setDraft((previous) => ({ ...previous, [field]: value }));
  }

  async function save(from: { version: number; draft: Draft }, target: Draft) {
    setSaving(true);
    setError(null);
    setSaved(false);
    try {
      const result = await api.PATCH("/tickets/{ticket_id}", {
        params: { path: { ticket_id: ticket.id }, header: { "if-match": `"${from.version}"` } },
        body: updateBody(from.draft, target),
      });
      if (result.response.status === 409) {
        const latest = unwrap(
          await api.GET("/tickets/{ticket_id}", { params: { path: { ticket_id: ticket.id } } }),
        );
        setConflict({ latest, theirs: changes(from.draft, draftOf(latest)) });
        return;
      }
      const updated = unwrap(result);
      queryClient.setQueryData(ticketKey(ticket.id), updated);
      void queryClient.invalidateQueries({ queryKey: ["tickets"] });
      setBase({ version: updated.version, draft: draftOf(updated) });
      setDraft(draftOf(updated));
      setConflict(null);
      setSaved(true);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : String(caught));
    } finally {
      setSaving(false);
    }
  }

  function reapply() {
    if (!conflict) return;
    const latest = { version: conflict.latest.version, draft: draftOf(conflict.latest) };
    const target = rebase(base.draft, draft, latest.draft);
    queryClient.setQueryData(ticketKey(ticket.id), conflict.latest);
    setBase(latest);
    setDraft(target);
    void save(latest, target);
  }

  function takeLatest() {
    if (!conflict) return;
    queryClient.setQueryData(ticketKey(ticket.id), conflict.latest);
    setBase({ version: conflict.latest.version, draft: draftOf(conflict.latest) });
    setDraft(draftOf(conflict.latest));
    setConflict(null);
  }

  const label = (field: Change["field"]) => t(`fields.${field}`);
  const show = (change: Change, value: string | null): string => {
    if (value === null) return "—";
    if (change.field === "team_id") return nameOf(teams.data, value) ?? value;
    if (change.field === "assignee_id") return nameOf(agents.data, value) ?? value;
    if (change.field === "status") return t(`status.${value}`, { defaultValue: value });
    if (change.field === "priority") return t(`priority.${value}`, { defaultValue: value });
    return value;
  };

  const agentChoices = [...teamAgents];
  if (draft.assignee_id && !agentChoices.some((choice) => choice.value === draft.assignee_id)) {
    agentChoices.push({
      value: draft.assignee_id,
      label: nameOf(agents.data, draft.assignee_id) ?? draft.assignee_id,
    });
  }
  const opts = options.data;

  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby="fields-title">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void save(base, draft);
        }}
      >
        <Stack gap="sm">
          <Title order={3} size="h4" id="fields-title">
            {t("fields.title")}
          </Title>
          <Select
            data-shortcut="status"
            label={t("fields.status")}
            data={choices.statuses}
            value={draft.status}
            onChange={(value) => value && set("status", value)}
            allowDeselect={false}
          />
          <Select
            label={t("fields.priority")}
            data={choices.priorities}
            value={draft.priority}
            onChange={(value) => value && set("priority", value)}
            allowDeselect={false}
          />
          <Select
            label={t("fields.type")}
            data={opts?.types ?? []}
            value={draft.type}
            onChange={(value) => set("type", value)}
            clearable
          />
          <Select
            label={t("fields.category")}
            data={opts?.categories ?? []}
            value={draft.category}
            onChange={(value) => set("category", value)}
            clearable
          />
          <Select
            label={t("fields.team_id")}
            data={(teams.data ?? []).map((item) => ({ value: item.id, label: item.name }))}
            value={draft.team_id}
            onChange={(value) => set("team_id", value)}
            clearable
            searchable
          />
          <Group align="end" gap="xs" wrap="nowrap">
            <Select
              label={t("fields.assignee_id")}
              data={agentChoices}
              value={draft.assignee_id}
              onChange={(value) => set("assignee_id", value)}
              clearable
              searchable
              style={{ flex: 1 }}
            />
            {me.data && draft.assignee_id !== me.data.id && (
              <Button
                variant="default"
                data-shortcut="assign-me"
                onClick={() => me.data && set("assignee_id", me.data.id)}
              >
                {t("fields.assignToMe")}
              </Button>
            )}
          </Group>
          <TagsInput
            label={t("fields.tags")}
            value={draft.tags}
            onChange={(value) => set("tags", value)}
            clearable
          />
          {conflict && (
            <Alert color={NOTE_COLOR} role="alert" title={t("conflict.title")}>
              <Text size="sm">{t("conflict.body", { version: conflict.latest.version })}</Text>
              {conflict.theirs.length > 0 ? (
                <List size="sm" mt="xs">
                  {conflict.theirs.map((change) => (
                    <List.Item key={change.field}>
                      {label(change.field)}: {show(change, change.from)} → {show(change, change.to)}
                    </List.Item>
                  ))}
                </List>
              ) : (
                <Text size="sm" mt="xs">
                  {t("conflict.otherChanges")}
                </Text>
              )}
              <Group mt="sm" gap="xs">
                <Button size="xs" onClick={reapply} loading={saving}>
                  {t("conflict.reapply")}
                </Button>
                <Button size="xs" variant="default" onClick={takeLatest}>
                  {t("conflict.discard")}
                </Button>
              </Group>
            </Alert>
          )}
          {error && (
            <Alert color="red" role="alert">
              {error}
            </Alert>
          )}
          {saved && !dirty && (
            <Text size="sm" c="teal.9" role="status">
              {t("fields.saved")}
            </Text>
          )}
          <Group justify="flex-end" gap="xs">
            <Button
              variant="default"
              disabled={!dirty || saving}
              onClick={() => {
                setDraft(base.draft);
                setConflict(null);
              }}
            >
              {t("fields.reset")}
            </Button>
            <Button
              type="submit"
              disabled={!dirty || conflict !== null}
              loading={saving && !conflict}
            >
              {t("fields.save")}
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}
