/**
 * A business calendar as the SLA service keeps it: a time zone, working windows per weekday
 * (several a day, e.g. 08:00-12:00 and 13:00-17:00), holidays (one date, a range of dates, or
 * the same day every year) or around the clock.
 */
import {
  Button,
  Checkbox,
  Fieldset,
  Group,
  NumberInput,
  Select,
  Stack,
  Text,
  TextInput,
} from "@mantine/core";
import { useTranslation } from "react-i18next";
import type { AdminSchemas } from "./adminApi";
import { RemoveButton } from "./common";
import { WallTimeInput } from "./WallTimeInput";

export type Calendar = AdminSchemas["BusinessCalendar"];
type Weekday = AdminSchemas["Weekday"];
export type Holiday = Calendar["holidays"][number];

export const WEEKDAYS: Weekday[] = [
  "monday",
  "tuesday",
  "wednesday",
  "thursday",
  "friday",
  "saturday",
  "sunday",
];

const ZONES: string[] = (() => {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return ["UTC", "Asia/Jakarta"];
  }
})();

/** Office hours in the browser's time zone: Monday to Friday, 08:00-12:00 and 13:00-17:00. */
export function officeHours(): Calendar {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const windows = [
    { start: "08:00", end: "12:00" },
    { start: "13:00", end: "17:00" },
  ];
  return {
    time_zone: zone,
    always_open: false,
    holidays: [],
    weekly_hours: Object.fromEntries(WEEKDAYS.slice(0, 5).map((day) => [day, windows])),
  };
}

function WeekdayWindows({
  day,
  calendar,
  onChange,
}: {
  day: Weekday;
  calendar: Calendar;
  onChange: (calendar: Calendar) => void;
}) {
  const { t } = useTranslation();
  const windows = calendar.weekly_hours?.[day] ?? [];
  const dayName = t(`admin.weekdays.${day}`);
  const set = (next: typeof windows) =>
    onChange({ ...calendar, weekly_hours: { ...calendar.weekly_hours, [day]: next } });
  return (
    <Group gap="xs" align="end" data-testid={`hours-${day}`}>
      <Text w={90} size="sm" fw={500}>
        {dayName}
      </Text>
      {windows.length === 0 && (
        <Text size="sm" c="dimmed">
          {t("admin.calendar.closed")}
        </Text>
      )}
      {windows.map((window, index) => (
        <Group key={index} gap={4} align="end">
          <WallTimeInput
            label={t("admin.calendar.opensOn", { day: dayName, n: index + 1 })}
            value={window.start}
            onChange={(start) => set(windows.map((w, i) => (i === index ? { ...w, start } : w)))}
          />
          <Text size="sm">–</Text>
          <WallTimeInput
            label={t("admin.calendar.closesOn", { day: dayName, n: index + 1 })}
            value={window.end}
            endOfDay
            onChange={(end) => set(windows.map((w, i) => (i === index ? { ...w, end } : w)))}
          />
          <RemoveButton
            what={`${dayName} ${index + 1}`}
            onRemove={() => set(windows.filter((_, i) => i !== index))}
          />
        </Group>
      ))}
      <Button
        variant="default"
        size="xs"
        aria-label={t("admin.calendar.addWindowOn", { day: dayName })}
        onClick={() => set([...windows, { start: "09:00", end: "17:00" }])}
      >
        +
      </Button>
    </Group>
  );
}

function HolidayRow({
  holiday,
  index,
  onChange,
  onRemove,
}: {
  holiday: Holiday;
  index: number;
  onChange: (holiday: Holiday) => void;
  onRemove: () => void;
}) {
  const { t } = useTranslation();
  const n = index + 1;
  const kinds = (["date", "range", "yearly"] as const).map((kind) => ({
    value: kind,
    label: t(`admin.calendar.kinds.${kind}`),
  }));
  const changeKind = (kind: string | null) => {
    const name = holiday.name;
    if (kind === "range") onChange({ kind, name, first: "", last: "" });
    else if (kind === "yearly") onChange({ kind, name, month: 1, day: 1 });
    else onChange({ kind: "date", name, on: "" });
  };
  return (
    <Group gap="xs" align="end" data-testid="holiday-row">
      <Select
        label={t("admin.calendar.kind", { n })}
        data={kinds}
        value={holiday.kind}
        onChange={changeKind}
        allowDeselect={false}
        w={150}
      />
      {holiday.kind === "date" && (
        <TextInput
          type="date"
          label={t("admin.calendar.on", { n })}
          value={holiday.on}
          onChange={(e) => onChange({ ...holiday, on: e.currentTarget.value })}
        />
      )}
      {holiday.kind === "range" && (
        <>
          <TextInput
            type="date"
            label={t("admin.calendar.first", { n })}
            value={holiday.first}
            onChange={(e) => onChange({ ...holiday, first: e.currentTarget.value })}
          />
          <TextInput
            type="date"
            label={t("admin.calendar.last", { n })}
            value={holiday.last}
            onChange={(e) => onChange({ ...holiday, last: e.currentTarget.value })}
          />
        </>
      )}
      {holiday.kind === "yearly" && (
        <>
          <NumberInput
            label={t("admin.calendar.month", { n })}
            min={1}
            max={12}
            value={holiday.month}
            onChange={(v) => onChange({ ...holiday, month: Number(v) || 1 })}
            w={90}
          />
          <NumberInput
            label={t("admin.calendar.day", { n })}
            min={1}
            max={31}
            value={holiday.day}
            onChange={(v) => onChange({ ...holiday, day: Number(v) || 1 })}
            w={90}
          />
        </>
      )}
      <TextInput
        label={t("admin.calendar.holidayName", { n })}
        value={holiday.name}
        maxLength={200}
        onChange={(e) => onChange({ ...holiday, name: e.currentTarget.value })}
      />
      <RemoveButton what={t("admin.calendar.holiday", { n })} onRemove={onRemove} />
    </Group>
  );
}

/** Holidays (one date, a range of dates, or the same day every year): a calendar's own, or a
 * named holiday list's. */
export function HolidayFields({
  holidays,
  onChange,
}: {
  holidays: Holiday[];
  onChange: (holidays: Holiday[]) => void;
}) {
  const { t } = useTranslation();
  return (
    <Stack gap={6} role="group" aria-label={t("admin.calendar.holidays")}>
      <Text size="sm" fw={500}>
        {t("admin.calendar.holidays")}
      </Text>
      {holidays.map((holiday, index) => (
        <HolidayRow
          key={index}
          holiday={holiday}
          index={index}
          onChange={(changed) => onChange(holidays.map((h, i) => (i === index ? changed : h)))}
          onRemove={() => onChange(holidays.filter((_, i) => i !== index))}
        />
      ))}
      <Group>
        <Button
          variant="default"
          size="xs"
          onClick={() => onChange([...holidays, { kind: "date", name: "", on: "" }])}
        >
          {t("admin.calendar.addHoliday")}
        </Button>
      </Group>
    </Stack>
  );
}

export function CalendarFields({
  calendar,
  onChange,
}: {
  calendar: Calendar;
  onChange: (calendar: Calendar) => void;
}) {
  const { t } = useTranslation();
  return (
    <Fieldset legend={t("admin.calendar.title")}>
      <Stack gap="sm">
        <Group align="end">
          <Select
            label={t("admin.calendar.timeZone")}
            data={ZONES}
            searchable
            value={calendar.time_zone}
            onChange={(zone) => zone && onChange({ ...calendar, time_zone: zone })}
            w={260}
          />
          <Checkbox
            label={t("admin.calendar.alwaysOpen")}
            checked={calendar.always_open}
            onChange={(e) => onChange({ ...calendar, always_open: e.currentTarget.checked })}
          />
        </Group>
        {!calendar.always_open && (
          <Stack gap={6} role="group" aria-label={t("admin.calendar.weeklyHours")}>
            <Text size="sm" fw={500}>
              {t("admin.calendar.weeklyHours")}
            </Text>
            {WEEKDAYS.map((day) => (
              <WeekdayWindows key={day} day={day} calendar={calendar} onChange={onChange} />
            ))}
          </Stack>
        )}
        <HolidayFields
          holidays={calendar.holidays}
          onChange={(holidays) => onChange({ ...calendar, holidays })}
        />
      </Stack>
    </Fieldset>
  );
}
