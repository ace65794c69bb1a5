/**
 * The SLA service's configuration as the admin screens read it: policies, holiday lists,
 * calendars and teams' calendars are one configuration with one version, so a change to any of
 * them refetches all (SLA_CONFIG) - the next change names the version it was decided on.
 */
import {
  useMutation,
  useQuery,
  useQueryClient,
  type QueryClient,
  type QueryKey,
} from "@tanstack/react-query";
import { unwrap } from "../../shared/api/client";
import type { paths } from "../../shared/api/admin-services";
import { adminApi } from "./adminApi";

export const POLICIES = ["sla-policies"];
export const HOLIDAY_LISTS = ["sla-holiday-lists"];
export const CALENDARS = ["sla-calendars"];
export const TEAM_CALENDARS = ["sla-team-calendar"];
export const SLA_CONFIG: QueryKey[] = [POLICIES, HOLIDAY_LISTS, CALENDARS, TEAM_CALENDARS];

type Answer<P extends keyof paths> = paths[P] extends {
  get: { responses: { 200: { content: { "application/json": infer A } } } };
}
  ? A
  : never;
export type HolidayListView = Answer<"/holiday-lists">["holiday-lists"][number];
export type CalendarView = Answer<"/calendars">["calendars"][number];

function etagOf(response: Response): string {
  return response.headers.get("ETag") ?? "";
}

/** Where the version of this page's last change is kept (no query reads it from the server). */
const CHANGED_AT = ["sla-config-changed-at"];

function versionOf(etag: string | undefined): number {
  const version = Number((etag ?? "").replace(/"/g, ""));
  return Number.isInteger(version) && etag ? version : -1;
}

/** The newest configuration version this page has seen: in any read's ETag or a change's answer. */
function newestEtag(queryClient: QueryClient): string {
  const read = SLA_CONFIG.flatMap((key) =>
    queryClient
      .getQueriesData<{ etag?: string }>({ queryKey: key })
      .map(([, data]) => versionOf(data?.etag)),
  );
  const newest = Math.max(queryClient.getQueryData<number>(CHANGED_AT) ?? -1, ...read);
  return newest < 0 ? "" : `"${newest}"`;
}

/**
 * A change to the SLA configuration, decided on the newest version this page knows. A change's
 * answer carries the version it made while the reads are still being refetched, so a second
 * change made at once (a calendar deleted, then the holiday list it linked) is not refused as a
 * conflict. Refused or not, the reads are refetched: after a 409 the next try sees the change
 * that caused it.
 */
export function useSlaChange<V>(run: (vars: V, ifMatch: string) => Promise<unknown>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (vars: V) => run(vars, newestEtag(queryClient)),
    onSuccess: (answer) => {
      const made =
        typeof answer === "object" && answer !== null && "version" in answer
          ? answer.version
          : undefined;
      if (typeof made === "number") {
        queryClient.setQueryData<number>(CHANGED_AT, (known) => Math.max(known ?? -1, made));
      }
    },
    onSettled: async () => {
      await Promise.all(SLA_CONFIG.map((key) => queryClient.invalidateQueries({ queryKey: key })));
    },
  });
}

export function useHolidayLists() {
  return useQuery({
    queryKey: HOLIDAY_LISTS,
    queryFn: async () => {
      const result = await adminApi.GET("/holiday-lists");
      return { items: unwrap(result)["holiday-lists"], etag: etagOf(result.response) };
    },
  });
}

export function useCalendars() {
  return useQuery({
    queryKey: CALENDARS,
    queryFn: async () => {
      const result = await adminApi.GET("/calendars");
      return { items: unwrap(result).calendars, etag: etagOf(result.response) };
    },
  });
}

/** The calendar a team works by (null: none), and the version it was read at. */
export function useTeamCalendar(teamId: string) {
  return useQuery({
    queryKey: [...TEAM_CALENDARS, teamId],
    queryFn: async () => {
      const result = await adminApi.GET("/sla/teams/{team_id}/calendar", {
        params: { path: { team_id: teamId } },
      });
      return { calendarId: unwrap(result).calendar_id, etag: etagOf(result.response) };
    },
  });
}
