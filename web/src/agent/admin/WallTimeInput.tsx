/**
 * A wall-clock time typed as HH:MM (24-hour). A window's end may be 24:00, the midnight that
 * ends the day, as the SLA service's calendar document writes it: the browser's time input
 * cannot hold 24:00 (it showed, and saved, 23:59), so this is a text field that takes 00:00-23:59
 * and, for an end, 24:00. What is not a time yet stays in the field with a hint and is not
 * handed on.
 */
import { TextInput } from "@mantine/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";

const TIME = /^([01]?\d|2[0-3]):([0-5]\d)$/;

/** ``text`` as HH:MM (``8:30`` -> ``08:30``), or null when it is not a time of the day (24:00
 * only when ``endOfDay``). */
export function wallTime(text: string, endOfDay: boolean): string | null {
  const trimmed = text.trim();
  if (endOfDay && trimmed === "24:00") return trimmed;
  const [, hours, minutes] = TIME.exec(trimmed) ?? [];
  return hours && minutes ? `${hours.padStart(2, "0")}:${minutes}` : null;
}

export function WallTimeInput({
  value,
  onChange,
  endOfDay = false,
  label,
  w = 90,
}: {
  value: string;
  onChange: (value: string) => void;
  endOfDay?: boolean;
  label: string;
  w?: number;
}) {
  const { t } = useTranslation();
  const [draft, setDraft] = useState<string | null>(null);
  return (
    <TextInput
      aria-label={label}
      value={draft ?? value}
      placeholder="HH:MM"
      inputMode="numeric"
      maxLength={5}
      error={
        draft !== null
          ? t(endOfDay ? "admin.calendar.endHint" : "admin.calendar.timeHint")
          : undefined
      }
      onChange={(e) => {
        const typed = e.currentTarget.value;
        const time = wallTime(typed, endOfDay);
        if (time === null) {
          setDraft(typed);
          return;
        }
        setDraft(time === typed ? null : typed);
        onChange(time);
      }}
      onBlur={() => {
        if (draft !== null && wallTime(draft, endOfDay) !== null) setDraft(null);
      }}
      w={w}
    />
  );
}
