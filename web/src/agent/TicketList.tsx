import {
  Alert,
  Anchor,
  Badge,
  Checkbox,
  Group,
  Pagination,
  Select,
  Skeleton,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router";
import { api, unwrap, type TicketSummary } from "../shared/api/client";
import { formatDateTime, useTimeZone } from "../shared/i18n/timezone";
import { BulkActions, type Matching, type Selected } from "./BulkActions";
import { nameOf, useAgents, useMe, useOptionChoices, useTeams } from "./data";
import { TOOLS_NS } from "./i18n/register";
import { SlaDue } from "./SlaDue";
import { StatusBadge, PriorityBadge } from "./badges";
import { PAGE_SIZE, SORTS, viewQuery, type TicketQuery } from "./views";

// Badges, countdowns and dates keep their width; the subject wraps instead.
const NOWRAP = { whiteSpace: "nowrap" } as const;

type Filter = "q" | "status" | "priority" | "team" | "assignee" | "tag" | "sort" | "breached";

function useListQuery(params: URLSearchParams): TicketQuery {
  const view = params.get("v") ?? "list";
  const query: TicketQuery = { ...viewQuery(view), page_size: PAGE_SIZE };
  const get = (key: string) => params.get(key) ?? undefined;
  if (get("q")) query.q = get("q");
  if (get("status")) query.status = get("status");
  if (get("priority")) query.priority = get("priority");
  if (get("team")) query.team_id = get("team");
  if (get("assignee")) query.assignee = get("assignee");
  if (get("tag")) query.tag = get("tag");
  if (get("sort")) query.sort = get("sort");
  if (get("breached") === "true") query.breached = true;
  if (query.status && query.view !== "all") query.view = "all";
  query.page = Math.max(1, Number(params.get("page") ?? "1") || 1);
  return query;
}

export function TicketList() {
  const { t, i18n } = useTranslation();
  const { t: tt } = useTranslation(TOOLS_NS);
  const zone = useTimeZone();
  const [params, setParams] = useSearchParams();
  const view = params.get("v") ?? "list";
  const query = useListQuery(params);
  const choices = useOptionChoices();
  const agents = useAgents();
  const teams = useTeams();
  const me = useMe();

  // Rows picked for a bulk edit, with the version seen when picked (for If-Match); a new
  // view, filter or page starts a new selection.
  const listKey = JSON.stringify(query);
  const [selection, setSelection] = useState<{ key: string; rows: Map<string, Selected> }>(() => ({
    key: listKey,
    rows: new Map(),
  }));
  if (selection.key !== listKey) setSelection({ key: listKey, rows: new Map() });
  const selected = [...selection.rows.values()];
  // "Select all N matching this view": the list key it was chosen on (null: not chosen).
  const [allMatching, setAllMatching] = useState<string | null>(null);
  function pick(rows: Selected[], on: boolean) {
    if (!on) setAllMatching(null); // a row left out: no longer "every ticket of the view"
    setSelection((previous) => {
      const next = new Map(previous.rows);
      for (const row of rows) {
        if (on) next.set(row.id, row);
        else next.delete(row.id);
      }
      return { key: previous.key, rows: next };
    });
  }

  const tickets = useQuery({
    queryKey: ["tickets", query],
    queryFn: async () => unwrap(await api.GET("/tickets", { params: { query } })),
    placeholderData: keepPreviousData,
    refetchInterval: 30_000,
  });

  // Search and tag are typed: apply them to the URL after a short pause.
  const [search, setSearch] = useState(params.get("q") ?? "");
  const [debouncedSearch] = useDebouncedValue(search, 300);
  const [tag, setTag] = useState(params.get("tag") ?? "");
  const [debouncedTag] = useDebouncedValue(tag, 300);

  function update(changes: Partial<Record<Filter | "page", string | null>>) {
    setParams(
      (previous) => {
        const next = new URLSearchParams(previous);
        for (const [key, value] of Object.entries(changes)) {
          if (value) next.set(key, value);
          else next.delete(key);
        }
        if (!("page" in changes)) next.delete("page");
        return next;
      },
      { replace: true },
    );
  }

  useEffect(() => {
    if ((params.get("q") ?? "") !== debouncedSearch.trim()) update({ q: debouncedSearch.trim() });
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only when the typed text settles
  }, [debouncedSearch]);
  useEffect(() => {
    if ((params.get("tag") ?? "") !== debouncedTag.trim()) update({ tag: debouncedTag.trim() });
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only when the typed text settles
  }, [debouncedTag]);

  const language = i18n.resolvedLanguage ?? "en";
  const title = view.startsWith("status:")
    ? t("views.status", {
        name: t(`status.${view.slice(7)}`, { defaultValue: view.slice(7) }),
      })
    : view.startsWith("team:")
      ? t("views.team", { name: nameOf(teams.data, view.slice(5)) ?? "…" })
      : t(`views.${view}`, { defaultValue: t("views.list") });
  const page = tickets.data;
  const pages = page ? Math.max(1, Math.ceil(page.total / page.page_size)) : 1;
  const matching: Matching | null =
    allMatching === listKey && page ? { query: { ...query, page: 1 }, total: page.total } : null;

  const assigneeOptions = [
    { value: "none", label: t("filters.unassigned") },
    ...(me.data ? [{ value: "me", label: t("filters.me") }] : []),
    ...(agents.data ?? []).map((agent) => ({ value: agent.id, label: agent.name })),
  ];

  return (
    <Stack gap="md">
      <Group justify="space-between" align="baseline">
        <Title order={2}>{title}</Title>
        {page && (
          <Text size="sm" c="dimmed" role="status">
            {t("list.count", { count: page.total })}
          </Text>
        )}
      </Group>
      <div role="search" aria-label={t("filters.label")}>
        <Group gap="sm" align="end" wrap="wrap">
          <TextInput
            data-shortcut="search"
            label={t("filters.search")}
            placeholder={t("filters.searchHint")}
            value={search}
            onChange={(event) => setSearch(event.currentTarget.value)}
            w={240}
            type="search"
          />
          <Select
            label={t("fields.status")}
            data={choices.statuses}
            value={params.get("status")}
            onChange={(value) => update({ status: value })}
            clearable
            w={170}
          />
          <Select
            label={t("fields.priority")}
            data={choices.priorities}
            value={params.get("priority")}
            onChange={(value) => update({ priority: value })}
            clearable
            w={130}
          />
          <Select
            label={t("fields.team")}
            data={(teams.data ?? []).map((team) => ({ value: team.id, label: team.name }))}
            value={params.get("team")}
            onChange={(value) => update({ team: value })}
            clearable
            searchable
            w={160}
          />
          <Select
            label={t("fields.assignee")}
            data={assigneeOptions}
            value={params.get("assignee")}
            onChange={(value) => update({ assignee: value })}
            clearable
            searchable
            w={170}
          />
          <TextInput
            label={t("fields.tag")}
            value={tag}
            onChange={(event) => setTag(event.currentTarget.value)}
            w={120}
          />
          <Select
            label={t("filters.sort")}
            data={SORTS.map((sort) => ({ value: sort, label: t(`sort.${sort}`) }))}
            value={params.get("sort") ?? query.sort ?? "-created_at"}
            onChange={(value) => update({ sort: value })}
            allowDeselect={false}
            w={200}
          />
          <Checkbox
            label={t("filters.breached")}
            checked={params.get("breached") === "true"}
            onChange={(event) => update({ breached: event.currentTarget.checked ? "true" : null })}
            mb={8}
          />
        </Group>
      </div>
      {tickets.error && (
        <Alert color="red" role="alert">
          {tickets.error.message}
        </Alert>
      )}
      <BulkActions
        selected={selected}
        pageTotal={
          page?.items.length &&
          selected.length === page.items.length &&
          page.total > page.items.length
            ? page.total
            : null
        }
        matching={matching}
        onMatching={(on) => setAllMatching(on ? listKey : null)}
        onDone={(keep) => {
          setAllMatching(null);
          setSelection((previous) => ({
            key: previous.key,
            rows: new Map([...previous.rows].filter(([id]) => keep.includes(id))),
          }));
        }}
      />
      <Table.ScrollContainer minWidth={900}>
        <Table striped highlightOnHover aria-busy={tickets.isFetching} verticalSpacing="xs">
          <Table.Caption>{t("list.caption", { view: title })}</Table.Caption>
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col" w={36}>
                <Checkbox
                  aria-label={tt("bulk.selectAll")}
                  checked={!!page?.items.length && selected.length === page.items.length}
                  indeterminate={selected.length > 0 && selected.length < (page?.items.length ?? 0)}
                  onChange={(event) => pick(page?.items ?? [], event.currentTarget.checked)}
                  disabled={!page?.items.length}
                />
              </Table.Th>
              <Table.Th scope="col">#</Table.Th>
              <Table.Th scope="col">{t("fields.subject")}</Table.Th>
              <Table.Th scope="col">{t("fields.requester")}</Table.Th>
              <Table.Th scope="col">{t("fields.status")}</Table.Th>
              <Table.Th scope="col">{t("fields.priority")}</Table.Th>
              <Table.Th scope="col">{t("fields.team")}</Table.Th>
              <Table.Th scope="col">{t("fields.assignee")}</Table.Th>
              <Table.Th scope="col">{t("list.slaDue")}</Table.Th>
              <Table.Th scope="col">{t("list.updated")}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {!page &&
              tickets.isLoading &&
              Array.from({ length: 5 }, (_, i) => (
                <Table.Tr key={i}>
                  <Table.Td colSpan={10}>
                    <Skeleton height={20} />
                  </Table.Td>
                </Table.Tr>
              ))}
            {page?.items.length === 0 && (
              <Table.Tr>
                <Table.Td colSpan={10}>
                  <Text c="dimmed" ta="center" py="lg">
                    {t("list.empty")}
                  </Text>
                </Table.Td>
              </Table.Tr>
            )}
            {page?.items.map((ticket: TicketSummary) => (
              <Table.Tr key={ticket.id} data-testid="ticket-row">
                <Table.Td>
                  <Checkbox
                    aria-label={tt("bulk.selectRow", {
                      number: ticket.number,
                      subject: ticket.subject,
                    })}
                    checked={selection.rows.has(ticket.id)}
                    onChange={(event) => pick([ticket], event.currentTarget.checked)}
                  />
                </Table.Td>
                <Table.Td>{ticket.number}</Table.Td>
                <Table.Td>
                  <Anchor component={Link} to={`/tickets/${ticket.id}`} fw={500}>
                    {ticket.subject}
                  </Anchor>
                  {ticket.tags.length > 0 && (
                    <Group gap={4} mt={2}>
                      {ticket.tags.map((name) => (
                        <Badge key={name} size="xs" variant="outline" color="gray.8">
                          {name}
                        </Badge>
                      ))}
                    </Group>
                  )}
                </Table.Td>
                <Table.Td>{ticket.requester_email ?? "—"}</Table.Td>
                <Table.Td style={NOWRAP}>
                  <StatusBadge status={ticket.status} category={ticket.status_category} />
                </Table.Td>
                <Table.Td style={NOWRAP}>
                  <PriorityBadge priority={ticket.priority} />
                </Table.Td>
                <Table.Td>{nameOf(teams.data, ticket.team_id) ?? "—"}</Table.Td>
                <Table.Td>
                  {nameOf(agents.data, ticket.assignee_id) ?? t("filters.unassigned")}
                </Table.Td>
                <Table.Td style={NOWRAP}>
                  <SlaDue
                    due={ticket.resolution_due ?? ticket.first_response_due}
                    breached={ticket.sla_breached}
                  />
                </Table.Td>
                <Table.Td style={NOWRAP}>
                  <time dateTime={ticket.updated_at}>
                    {formatDateTime(ticket.updated_at, language, zone)}
                  </time>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {pages > 1 && (
        <Pagination
          total={pages}
          value={query.page ?? 1}
          onChange={(value) => update({ page: String(value) })}
          getControlProps={(control) => ({
            "aria-label": t(`list.page.${control}`),
          })}
          getItemProps={(value) => ({ "aria-label": t("list.page.number", { page: value }) })}
        />
      )}
    </Stack>
  );
}
