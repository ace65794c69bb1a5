/**
 * The SLA service's configuration as the admin screens read it: policies, holiday lists,
 * calendars and teams' calendars are one configuration with one version, so a change to any of
 * them refetches all (SLA_CONFIG) - the next change names the version it was decided on.
 */
import { useQuery, type QueryKey } from "@tanstack/react-query";
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
