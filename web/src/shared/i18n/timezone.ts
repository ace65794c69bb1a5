/**
 * The agent's time zone: every date on screen is shown in it. Defaults to the browser's zone,
 * may be changed in the header (remembered in localStorage).
 */
import { useSyncExternalStore } from "react";

const STORAGE_KEY = "helpdesk.timeZone";
const listeners = new Set<() => void>();

function valid(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

let current: string = (() => {
  const stored = localStorage.getItem(STORAGE_KEY);
  if (stored && valid(stored)) return stored;
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
})();

export function timeZones(): string[] {
  const zones = Intl.supportedValuesOf("timeZone");
  return zones.includes(current) ? zones : [current, ...zones];
}

export function setTimeZone(zone: string): void {
  if (!valid(zone)) return;
  current = zone;
  localStorage.setItem(STORAGE_KEY, zone);
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useTimeZone(): string {
  return useSyncExternalStore(subscribe, () => current);
}

// Building an Intl formatter costs far more than formatting with one (a list of 25 tickets
// formats ~75 dates per render): one formatter per language and zone, kept.
const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();
const relativeFormats = new Map<string, Intl.RelativeTimeFormat>();

function dateTimeFormat(language: string, zone: string): Intl.DateTimeFormat {
  const key = `${language}|${zone}`;
  let format = dateTimeFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(language, {
      timeZone: zone,
      dateStyle: "medium",
      timeStyle: "short",
    });
    dateTimeFormats.set(key, format);
  }
  return format;
}

function relativeFormat(language: string): Intl.RelativeTimeFormat {
  let format = relativeFormats.get(language);
  if (!format) {
    format = new Intl.RelativeTimeFormat(language, { numeric: "auto" });
    relativeFormats.set(language, format);
  }
  return format;
}

/** "6 Des 2026 14.05" / "Dec 6, 2026, 2:05 PM" in the agent's zone and language. */
export function formatDateTime(iso: string, language: string, zone: string): string {
  return dateTimeFormat(language, zone).format(new Date(iso));
}

/** "in 3 hours" / "2 days ago", for SLA countdowns. */
export function formatRelative(iso: string, language: string, now: number): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const format = relativeFormat(language);
  const abs = Math.abs(seconds);
  if (abs < 60) return format.format(seconds, "second");
  if (abs < 3600) return format.format(Math.round(seconds / 60), "minute");
  if (abs < 86400) return format.format(Math.round(seconds / 3600), "hour");
  return format.format(Math.round(seconds / 86400), "day");
}
