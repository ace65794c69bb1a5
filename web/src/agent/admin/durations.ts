/**
 * SLA targets as a manager writes them ("30m", "4h", "1d 2h") and as the API keeps them
 * (ISO 8601 durations such as PT4H or P1DT2H). A day is 24 hours of working time, as the
 * SLA service counts it; the preview shows what that means in the calendar.
 */

const ISO = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;
const WRITTEN = /^(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?$/i;

/** Seconds of an ISO 8601 duration, or null when it is not one. */
export function isoSeconds(iso: string): number | null {
  const match = ISO.exec(iso.trim());
  if (!match || iso.trim() === "P" || iso.trim().endsWith("T")) return null;
  const part = (index: number) => Number(match[index] ?? 0);
  return (((part(1) * 7 + part(2)) * 24 + part(3)) * 60 + part(4)) * 60 + part(5);
}

/** "1d 2h 30m" of a number of seconds (whole minutes). */
export function written(seconds: number): string {
  const minutes = Math.round(seconds / 60);
  const parts = [
    [Math.floor(minutes / 1440), "d"],
    [Math.floor((minutes % 1440) / 60), "h"],
    [minutes % 60, "m"],
  ] as const;
  return parts
    .filter(([value]) => value > 0)
    .map(([value, unit]) => `${value}${unit}`)
    .join(" ");
}

/** The written form of an ISO duration from the API ("" for none). */
export function fromIso(iso: string | null | undefined): string {
  if (!iso) return "";
  const seconds = isoSeconds(iso);
  return seconds === null ? iso : written(seconds);
}

/**
 * The ISO duration of what a manager wrote: null for an empty field, undefined when it is not
 * a duration (the form says so; the API would refuse it too).
 */
export function toIso(text: string): string | null | undefined {
  const trimmed = text.trim();
  if (!trimmed) return null;
  const match = WRITTEN.exec(trimmed);
  if (!match || !/\d/.test(trimmed)) return undefined;
  const part = (index: number) => Number(match[index] ?? 0);
  const total = part(1) * 1440 + part(2) * 60 + part(3);
  if (total <= 0) return undefined;
  const d = Math.floor(total / 1440);
  const h = Math.floor((total % 1440) / 60);
  const m = total % 60;
  const time = `${h ? `${h}H` : ""}${m ? `${m}M` : ""}`;
  return `P${d ? `${d}D` : ""}${time ? `T${time}` : ""}`;
}
