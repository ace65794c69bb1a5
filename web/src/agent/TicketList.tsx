import {
  Alert,
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
  type SelectProps,
} from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { TFunction } from "i18next";
import { memo, useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { useHref, useNavigate, useSearchParams } from "react-router";
import { type TicketSummary } from "../shared/api/client";
import { formatDateTime, useTimeZone } from "../shared/i18n/timezone";
import { useStableCallback } from "../shared/useStableCallback";
import { BulkActions, type Matching, type Selected } from "./BulkActions";
import { nameOf, useAgents, useMe, useOptionChoices, useTeams } from "./data";
import { TOOLS_NS } from "./i18n/register";
import {
  listKeyOf,
  listQueryOf,
  prefetchList,
  settleRequested,
  ticketsQuery,
  useRequestedList,
  withChanges,
  type Filter,
} from "./listQuery";
import { PlainAnchor, PlainBadge, PlainCheckbox, PlainGroup, PlainTd, PlainTr } from "./listCells";
import { SlaDue } from "./SlaDue";
import { priorityColor, statusColor, WHOLE } from "./badges";
import { SORTS } from "./views";

// Badges, countdowns and dates keep their width; the subject wraps instead.
const NOWRAP = { whiteSpace: "nowrap" } as const;
// A row's tags: under the subject, as `<Group gap={4} mt={2}>` placed them.
const TAG_GAP = "calc(0.25rem * var(--mantine-scale))";
const TAGS_BELOW = { marginTop: "calc(0.125rem * var(--mantine-scale))" } as const;

const NO_ROWS: ReadonlyMap<string, Selected> = new Map();

type Pick = (rows: Selected[], on: boolean) => void;

/**
 * One filter of the list. Memoized with its choices and a stable handler: changing one filter
 * renders that select again, not all five (each is a whole combobox).
 */
const FilterSelect = memo(function FilterSelect({
  param,
  onFilter,
  ...props
}: Omit<SelectProps, "onChange"> & {
  param: Filter;
  onFilter: (param: Filter, value: string | null) => void;
}) {
  return <Select {...props} onChange={(value) => onFilter(param, value)} />;
});

/**
 * One ticket of the list. Memoized: while the next page loads the previous one stays on
 * screen unchanged (its rows are not rendered again), and a selection renders only its row.
 * Drawn with plain elements in Mantine's classes (`listCells.tsx`): a view switch mounts 25
 * new rows at once.
 */
const TicketRow = memo(function TicketRow({
  ticket,
  checked,
  onPick,
  onOpen,
  ticketHref,
  team,
  assignee,
  language,
  zone,
  t,
  tt,
}: {
  ticket: TicketSummary;
  checked: boolean;
  onPick: Pick;
  onOpen: (ticketId: string) => void;
  ticketHref: string;
  team: string;
  assignee: string;
  language: string;
  zone: string;
  t: TFunction;
  tt: TFunction;
}) {
  return (
    <PlainTr data-testid="ticket-row">
      <PlainTd>
        <PlainCheckbox
          label={tt("bulk.selectRow", { number: ticket.number, subject: ticket.subject })}
          checked={checked}
          onChange={(event) => onPick([ticket], event.currentTarget.checked)}
        />
      </PlainTd>
      <PlainTd>{ticket.number}</PlainTd>
      <PlainTd>
        <PlainAnchor href={`${ticketHref}/${ticket.id}`} onOpen={() => onOpen(ticket.id)}>
          {ticket.subject}
        </PlainAnchor>
        {ticket.tags.length > 0 && (
          <PlainGroup gap={TAG_GAP} wrap="wrap" style={TAGS_BELOW}>
            {ticket.tags.map((name) => (
              <PlainBadge key={name} size="xs" variant="outline" color="gray.8">
                {name}
              </PlainBadge>
            ))}
          </PlainGroup>
        )}
      </PlainTd>
      <PlainTd>{ticket.requester_email ?? "—"}</PlainTd>
      <PlainTd style={NOWRAP}>
        <PlainBadge color={statusColor(ticket.status_category)} variant="filled" style={WHOLE}>
          {t(`status.${ticket.status}`, { defaultValue: ticket.status })}
        </PlainBadge>
      </PlainTd>
      <PlainTd style={NOWRAP}>
        <PlainBadge color={priorityColor(ticket.priority)} variant="dot" style={WHOLE}>
          {t(`priority.${ticket.priority}`, { defaultValue: ticket.priority })}
        </PlainBadge>
      </PlainTd>
      <PlainTd>{team}</PlainTd>
      <PlainTd>{assignee}</PlainTd>
      <PlainTd style={NOWRAP}>
        <SlaDue
          due={ticket.resolution_due ?? ticket.first_response_due}
          breached={ticket.sla_breached}
          language={language}
          zone={zone}
          t={t}
        />
      </PlainTd>
      <PlainTd style={NOWRAP}>
        <time dateTime={ticket.updated_at}>
          {formatDateTime(ticket.updated_at, language, zone)}
        </time>
      </PlainTd>
    </PlainTr>
  );
});

export function TicketList() {
  const { t, i18n } = useTranslation();
  const { t: tt } = useTranslation(TOOLS_NS);
  const zone = useTimeZone();
  const queryClient = useQueryClient();
  const [params, setParams] = useSearchParams();
  const view = params.get("v") ?? "list";
  const query = listQueryOf(params);
  const choices = useOptionChoices();
  const agents = useAgents();
  const teams = useTeams();
  const me = useMe();

  // Rows picked for a bulk edit, with the version seen when picked (for If-Match); a new
  // view, filter or page starts a new selection (the one kept belongs to another list key).
  const listKey = listKeyOf(query);
  const [selection, setSelection] = useState<{
    key: string;
    rows: ReadonlyMap<string, Selected>;
  }>(() => ({ key: listKey, rows: NO_ROWS }));
  const picked = selection.key === listKey ? selection.rows : NO_ROWS;
  const selected = [...picked.values()];
  // "Select all N matching this view": the list key it was chosen on (null: not chosen).
  const [allMatching, setAllMatching] = useState<string | null>(null);
  const pick = useStableCallback((rows: Selected[], on: boolean) => {
    if (!on) setAllMatching(null); // a row left out: no longer "every ticket of the view"
    setSelection((previous) => {
      const next = new Map(previous.key === listKey ? previous.rows : NO_ROWS);
      for (const row of rows) {
        if (on) next.set(row.id, row);
        else next.delete(row.id);
      }
      return { key: listKey, rows: next };
    });
  });

  // A ticket's page: its link's address, and the app's navigation on a plain click.
  const navigate = useNavigate();
  const ticketHref = useHref("/tickets");
  const open = useStableCallback((ticketId: string) => void navigate(`/tickets/${ticketId}`));

  const tickets = useQuery(ticketsQuery(query));
  // Busy while fetching, and from a change's click until the list renders what it asked for
  // (the rows on screen until then answer the previous filters).
  const requested = useRequestedList();
  const busy = tickets.isFetching || (requested !== null && requested !== listKey);
  useEffect(() => settleRequested(listKey), [listKey]);

  // Search and tag are typed: apply them to the URL after a short pause.
  const [search, setSearch] = useState(params.get("q") ?? "");
  const [debouncedSearch] = useDebouncedValue(search, 300);
  const [tag, setTag] = useState(params.get("tag") ?? "");
  const [debouncedTag] = useDebouncedValue(tag, 300);

  // The new page is asked for here, before the URL changes: React renders the new URL as a
  // transition, and the request no longer waits for that render.
  const update = useStableCallback((changes: Partial<Record<Filter | "page", string | null>>) => {
    const next = withChanges(params, changes);
    prefetchList(queryClient, next);
    setParams(next, { replace: true });
  });
  const onFilter = useStableCallback((param: Filter, value: string | null) =>
    update({ [param]: value }),
  );

  useEffect(() => {
    if ((params.get("q") ?? "") !== debouncedSearch.trim()) update({ q: debouncedSearch.trim() });
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only when the typed text settles
  }, [debouncedSearch]);
  useEffect(() => {
    if ((params.get("tag") ?? "") !== debouncedTag.trim()) update({ tag: debouncedTag.trim() });
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only when the typed text settles
  }, [debouncedTag]);

  const language = i18n.resolvedLanguage ?? "en";
  const unassigned = t("filters.unassigned");
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

  // Choices of the selects: the same arrays until their data or the language change.
  const signedInAgent = !!me.data;
  const assigneeOptions = useMemo(
    () => [
      { value: "none", label: t("filters.unassigned") },
      ...(signedInAgent ? [{ value: "me", label: t("filters.me") }] : []),
      ...(agents.data ?? []).map((agent) => ({ value: agent.id, label: agent.name })),
    ],
    [t, signedInAgent, agents.data],
  );
  const teamOptions = useMemo(
    () => (teams.data ?? []).map((team) => ({ value: team.id, label: team.name })),
    [teams.data],
  );
  const sortOptions = useMemo(
    () => SORTS.map((sort) => ({ value: sort, label: t(`sort.${sort}`) })),
    [t],
  );

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
          <FilterSelect
            param="status"
            onFilter={onFilter}
            label={t("fields.status")}
            data={choices.statuses}
            value={params.get("status")}
            clearable
            w={170}
          />
          <FilterSelect
            param="priority"
            onFilter={onFilter}
            label={t("fields.priority")}
            data={choices.priorities}
            value={params.get("priority")}
            clearable
            w={130}
          />
          <FilterSelect
            param="team"
            onFilter={onFilter}
            label={t("fields.team")}
            data={teamOptions}
            value={params.get("team")}
            clearable
            searchable
            w={160}
          />
          <FilterSelect
            param="assignee"
            onFilter={onFilter}
            label={t("fields.assignee")}
            data={assigneeOptions}
            value={params.get("assignee")}
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
          <FilterSelect
            param="sort"
            onFilter={onFilter}
            label={t("filters.sort")}
            data={sortOptions}
            value={params.get("sort") ?? query.sort ?? "-created_at"}
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
        <Table striped highlightOnHover aria-busy={busy} verticalSpacing="xs">
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
              <TicketRow
                key={ticket.id}
                ticket={ticket}
                checked={picked.has(ticket.id)}
                onPick={pick}
                onOpen={open}
                ticketHref={ticketHref}
                team={nameOf(teams.data, ticket.team_id) ?? "—"}
                assignee={nameOf(agents.data, ticket.assignee_id) ?? unassigned}
                language={language}
                zone={zone}
                t={t}
                tt={tt}
              />
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
