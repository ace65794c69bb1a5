/**
 * The SLA service's configuration as the admin screens read it: policies, holiday lists,
 * calendars and teams' calendars are one configuration with one version, so a change to any of
 * them names the newest version any of their reads (or an earlier change) showed, and refetches
 * them all (see versioned.ts).
 */
import type { paths } from "../../shared/api/admin-services";
import { adminApi } from "./adminApi";
import { useVersionedChange, useVersionedRead, type VersionedResource } from "./versioned";

export const POLICIES = ["sla-policies"];
const HOLIDAY_LISTS = ["sla-holiday-lists"];
const CALENDARS = ["sla-calendars"];
const TEAM_CALENDARS = ["sla-team-calendar"];
const SLA_CONFIG: VersionedResource = {
  name: "sla-config",
  reads: [POLICIES, HOLIDAY_LISTS, CALENDARS, TEAM_CALENDARS],
};

type Answer<P extends keyof paths> = paths[P] extends {
  get: { responses: { 200: { content: { "application/json": infer A } } } };
}
  ? A
  : never;
export type HolidayListView = Answer<"/holiday-lists">["holiday-lists"][number];
export type CalendarView = Answer<"/calendars">["calendars"][number];

/** A change to the SLA configuration; ``run`` gets the version to name (If-Match). */
export function useSlaChange<V>(run: (vars: V, ifMatch: string) => Promise<unknown>) {
  return useVersionedChange(SLA_CONFIG, run);
}

export function useHolidayLists() {
  return useVersionedRead(
    HOLIDAY_LISTS,
    () => adminApi.GET("/holiday-lists"),
    (answer) => answer["holiday-lists"],
  );
}

export function useCalendars() {
  return useVersionedRead(
    CALENDARS,
    () => adminApi.GET("/calendars"),
    (answer) => answer.calendars,
  );
}

/** The calendar a team works by (null: none), and the version it was read at. */
export function useTeamCalendar(teamId: string) {
  return useVersionedRead(
    [...TEAM_CALENDARS, teamId],
    () => adminApi.GET("/sla/teams/{team_id}/calendar", { params: { path: { team_id: teamId } } }),
    (answer) => answer.calendar_id,
  );
}
