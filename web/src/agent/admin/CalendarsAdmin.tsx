/**
 * Named business calendars, holiday lists and teams' calendars (managers), through the SLA
 * service's /calendars, /holiday-lists and /sla/teams/{id}/calendar: a calendar is weekly
 * working windows (several a day) in a time zone with its own holidays and linked holiday lists
 * (the SLA policy form's calendar editor), entered once and used by policies and teams. Each
 * shows who uses it; deleting one in use is the API's 409, shown with what uses it.
 */
import { Group, MultiSelect, Select, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { unwrap } from "../../shared/api/client";
import type { Team } from "../../shared/api/client";
import { useTeams } from "../data";
import { adminApi, type AdminSchemas } from "./adminApi";
import { sharedColumns } from "./calendarParts";
import { CalendarFields, officeHours } from "./CalendarFields";
import { RemoveButton, SaveResult } from "./common";
import { NamedItemForm } from "./editing";
import { ItemsEditor, type Editing } from "./ItemsEditor";
import { HolidayListsAdmin } from "./HolidayListsAdmin";
import {
  useCalendars,
  useHolidayLists,
  useSlaChange,
  useTeamCalendar,
  type CalendarView,
} from "./slaConfig";

type NamedCalendar = AdminSchemas["CalendarDocument"];

function CalendarForm({ draft: initial, isNew, onDone }: Editing<NamedCalendar>) {
  const { t } = useTranslation();
  const lists = useHolidayLists();
  const [named, setNamed] = useState<NamedCalendar>(initial);
  const save = useSlaChange(async (saved: NamedCalendar, ifMatch: string) =>
    unwrap(
      await adminApi.PUT("/calendars/{calendar_id}", {
        params: { path: { calendar_id: saved.calendar_id }, header: { "If-Match": ifMatch } },
        body: saved,
      }),
    ),
  );
  const listChoices = (lists.data?.value ?? []).map((list) => ({
    value: list.holiday_list_id,
    label: list.name,
  }));
  return (
    <NamedItemForm
      label={t("admin.calendars.calendarForm")}
      title={
        isNew
          ? t("admin.calendars.newCalendar")
          : t("admin.calendars.editCalendar", { name: initial.name })
      }
      idLabel={t("admin.calendars.calendarId")}
      item={{ id: named.calendar_id, name: named.name }}
      isNew={isNew}
      onChange={({ id, name }) => setNamed({ ...named, calendar_id: id, name })}
      saving={save.isPending}
      error={save.error}
      onSave={() => save.mutate(named, { onSuccess: onDone })}
      onCancel={onDone}
    >
      <CalendarFields
        calendar={named.calendar}
        onChange={(calendar) => setNamed({ ...named, calendar })}
      />
      <MultiSelect
        label={t("admin.calendars.linkedLists")}
        data={listChoices}
        value={named.holiday_list_ids}
        onChange={(ids) => setNamed({ ...named, holiday_list_ids: ids })}
        searchable
      />
    </NamedItemForm>
  );
}

function hoursOf(view: CalendarView, always: string): string {
  if (view.calendar.always_open) return always;
  return Object.entries(view.calendar.weekly_hours ?? {})
    .filter(([, windows]) => windows.length > 0)
    .map(
      ([day, windows]) =>
        `${day.slice(0, 3)} ${windows.map((w) => `${w.start}–${w.end}`).join(", ")}`,
    )
    .join("; ");
}

function editable(view: CalendarView): NamedCalendar {
  const { calendar_id, name, calendar, holiday_list_ids } = view;
  return { calendar_id, name, calendar, holiday_list_ids };
}

/** A team (chosen from the list) and the calendar it works by. */
function TeamCalendars({ choices }: { choices: { value: string; label: string }[] }) {
  const { t } = useTranslation();
  const teams = useTeams();
  const [teamId, setTeamId] = useState<string | null>(null);
  const team = (teams.data ?? []).find((candidate) => candidate.id === teamId);
  return (
    <Stack gap="xs">
      <Title order={3} size="h4">
        {t("admin.calendars.teams")}
      </Title>
      <Text size="sm">{t("admin.calendars.teamsHint")}</Text>
      <Group align="end">
        <Select
          label={t("admin.routing.team")}
          data={(teams.data ?? []).map((each) => ({ value: each.id, label: each.name }))}
          value={teamId}
          onChange={setTeamId}
          searchable
          w={280}
        />
        {team && <TeamCalendar key={team.id} team={team} choices={choices} />}
      </Group>
    </Stack>
  );
}

function TeamCalendar({
  team,
  choices,
}: {
  team: Team;
  choices: { value: string; label: string }[];
}) {
  const { t } = useTranslation();
  const current = useTeamCalendar(team.id);
  const set = useSlaChange(async (calendarId: string | null, ifMatch: string) =>
    unwrap(
      await adminApi.PUT("/sla/teams/{team_id}/calendar", {
        params: {
          path: { team_id: team.id },
          header: { "If-Match": ifMatch },
        },
        body: { calendar_id: calendarId },
      }),
    ),
  );
  return (
    <>
      <Select
        label={t("admin.calendars.teamCalendar", { team: team.name })}
        placeholder={t("admin.calendars.noCalendar")}
        data={choices}
        value={current.data?.value ?? null}
        onChange={(calendarId) => set.mutate(calendarId)}
        disabled={!current.data}
        w={280}
      />
      {current.data?.value && (
        <RemoveButton
          what={t("admin.calendars.teamCalendar", { team: team.name })}
          onRemove={() => set.mutate(null)}
        />
      )}
      <SaveResult error={set.error} done={set.isSuccess} />
    </>
  );
}

export default function CalendarsAdmin() {
  const { t } = useTranslation();
  const calendars = useCalendars();
  const remove = useSlaChange(async (id: string, ifMatch: string) =>
    unwrap(
      await adminApi.DELETE("/calendars/{calendar_id}", {
        params: { path: { calendar_id: id }, header: { "If-Match": ifMatch } },
      }),
    ),
  );
  const rows = calendars.data?.value ?? [];
  const choices = rows.map((row) => ({ value: row.calendar_id, label: row.name }));
  return (
    <Stack>
      <Text size="sm">{t("admin.calendars.hint")}</Text>
      <Title order={3} size="h4">
        {t("admin.calendars.calendarsTitle")}
      </Title>
      <ItemsEditor
        rows={rows}
        rowKey={(row) => row.calendar_id}
        testId="calendar-row"
        columns={sharedColumns<CalendarView>(t, [
          { heading: t("admin.calendars.timeZone"), cell: (row) => row.calendar.time_zone },
          {
            heading: t("admin.calendars.hours"),
            cell: (row) => hoursOf(row, t("admin.calendars.alwaysOpen")),
          },
          {
            heading: t("admin.calendars.linkedLists"),
            cell: (row) => row.holiday_list_ids.join(", ") || "—",
          },
        ])}
        empty={t("admin.calendars.noCalendars")}
        name={(row) => row.name}
        edit={editable}
        remove={remove}
        newLabel={t("admin.calendars.newCalendar")}
        newDraft={() => ({
          calendar_id: "",
          name: "",
          calendar: officeHours(),
          holiday_list_ids: [],
        })}
        form={(editing) => <CalendarForm {...editing} />}
      />
      <HolidayListsAdmin />
      <TeamCalendars choices={choices} />
    </Stack>
  );
}
