/**
 * What an SLA policy counts in: its own calendar (the calendar editor) or a named calendar
 * (the calendars screen's), the holiday lists it counts as well, and whether a ticket's team's
 * calendar takes over when the team has one - the policy document's calendar, calendar_id,
 * holiday_list_ids and use_team_calendar.
 */
import { Checkbox, Fieldset, MultiSelect, Select, Stack } from "@mantine/core";
import { useTranslation } from "react-i18next";
import type { AdminSchemas } from "./adminApi";
import { CalendarFields, officeHours } from "./CalendarFields";
import { useCalendars, useHolidayLists } from "./slaConfig";

type Policy = AdminSchemas["PolicyDocument"];
const OWN = "";

export function PolicyCalendar({
  policy,
  onChange,
}: {
  policy: Policy;
  onChange: (change: Partial<Policy>) => void;
}) {
  const { t } = useTranslation();
  const calendars = useCalendars();
  const lists = useHolidayLists();
  const choices = [
    { value: OWN, label: t("admin.calendars.ownCalendar") },
    ...(calendars.data?.value ?? []).map((named) => ({
      value: named.calendar_id,
      label: t("admin.calendars.namedCalendar", { name: named.name }),
    })),
  ];
  const choose = (value: string | null) =>
    value
      ? onChange({ calendar_id: value, calendar: null })
      : onChange({ calendar_id: null, calendar: policy.calendar ?? officeHours() });
  return (
    <Fieldset legend={t("admin.calendars.policyCalendar")}>
      <Stack gap="sm">
        <Select
          label={t("admin.calendars.policyCalendar")}
          data={choices}
          value={policy.calendar_id ?? OWN}
          onChange={choose}
          allowDeselect={false}
          searchable
        />
        {policy.calendar && (
          <CalendarFields
            calendar={policy.calendar}
            onChange={(calendar) => onChange({ calendar })}
          />
        )}
        <MultiSelect
          label={t("admin.calendars.policyLists")}
          data={(lists.data?.value ?? []).map((list) => ({
            value: list.holiday_list_id,
            label: list.name,
          }))}
          value={policy.holiday_list_ids}
          onChange={(ids) => onChange({ holiday_list_ids: ids })}
          searchable
        />
        <Checkbox
          label={t("admin.calendars.useTeamCalendar")}
          checked={policy.use_team_calendar}
          onChange={(e) => onChange({ use_team_calendar: e.currentTarget.checked })}
        />
      </Stack>
    </Fieldset>
  );
}
