/**
 * The ticket list's request, from the list's URL (the view and the filters live in the query
 * string): one definition for the list itself and for whoever starts the request before the
 * list renders — a filter or view change asks for the new page in its click handler, and the
 * sign-in asks for the first page as soon as the token exists. The list then finds its answer
 * in flight or already cached instead of asking only after React has rendered the new URL
 * (issue #17: that render was most of a filter change's time).
 */
import { keepPreviousData, queryOptions, type QueryClient } from "@tanstack/react-query";
import { useSyncExternalStore } from "react";
import { api, unwrap } from "../shared/api/client";
import { PAGE_SIZE, viewQuery, type TicketQuery } from "./views";

/** The query string's filters (the view is `v`). */
export type Filter =
  "q" | "status" | "priority" | "team" | "assignee" | "tag" | "sort" | "breached";

/** The list's identity for a query: the cache, the selection and `aria-busy` compare it. */
export function listKeyOf(query: TicketQuery): string {
  return JSON.stringify(query);
}

// The list last asked for by a change handler: until the list renders that one, the rows on
// screen are the previous answer, and the table says it is busy (aria-busy).
let requested: string | null = null;
const listeners = new Set<() => void>();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function setRequested(key: string | null): void {
  if (requested === key) return;
  requested = key;
  for (const listener of listeners) listener();
}

/** The list a change asked for, or null. */
export function useRequestedList(): string | null {
  return useSyncExternalStore(subscribe, () => requested);
}

/** The list shows `key` now: forget a request for another one (e.g. left by "back"). */
export function settleRequested(key: string): void {
  if (requested !== null && requested !== key) setRequested(null);
}

/** The query string's text filters → GET /tickets' parameters. */
const TEXT_FILTERS = {
  q: "q",
  status: "status",
  priority: "priority",
  team: "team_id",
  assignee: "assignee",
  tag: "tag",
  sort: "sort",
} as const satisfies Partial<Record<Filter, keyof TicketQuery>>;

/** GET /tickets' parameters for the list at this query string. */
export function listQueryOf(params: URLSearchParams): TicketQuery {
  const query: TicketQuery = { ...viewQuery(params.get("v") ?? "list"), page_size: PAGE_SIZE };
  for (const [filter, parameter] of Object.entries(TEXT_FILTERS)) {
    const value = params.get(filter);
    if (value) query[parameter] = value;
  }
  if (params.get("breached") === "true") query.breached = true;
  if (query.status && query.view !== "all") query.view = "all";
  query.page = Math.max(1, Number(params.get("page") ?? "1") || 1);
  return query;
}

/** The list's request: its cache key and how to ask. */
function ticketsRequest(query: TicketQuery) {
  return queryOptions({
    queryKey: ["tickets", query],
    queryFn: async () => unwrap(await api.GET("/tickets", { params: { query } })),
  });
}

/** The list's query: the previous page stays on screen (`aria-busy`) while the next loads. */
export function ticketsQuery(query: TicketQuery) {
  return queryOptions({
    ...ticketsRequest(query),
    placeholderData: keepPreviousData,
    refetchInterval: 30_000,
  });
}

/** The query string after `changes` (an empty value removes the filter; a filter change
 *  goes back to the first page). */
export function withChanges(
  params: URLSearchParams,
  changes: Partial<Record<Filter | "page", string | null>>,
): URLSearchParams {
  const next = new URLSearchParams(params);
  for (const [key, value] of Object.entries(changes)) {
    if (value) next.set(key, value);
    else next.delete(key);
  }
  if (!("page" in changes)) next.delete("page");
  return next;
}

/** A failed early request is the list's to show: it asks again when it renders. */
function ignore(): void {}

/** Send the list's request for this query string now (a cached fresh answer is kept). */
export function prefetchList(queryClient: QueryClient, params: URLSearchParams): void {
  const query = listQueryOf(params);
  queryClient.query(ticketsRequest(query)).catch(ignore);
  setRequested(listKeyOf(query));
}
