/**
 * The current time for live countdowns (SLA due times). One clock per interval for the whole
 * page: a list of 25 tickets shows 25 countdowns, and one timer moving them all in one render
 * costs less than 25 timers, each mounting and firing on its own. The clock keeps ticking once
 * started (one timer per interval for the page's life), so a countdown shown now reads a time
 * at most one interval old, as it did between the ticks of its own timer.
 */
import { useSyncExternalStore } from "react";

interface Clock {
  now: number;
  subscribe: (listener: () => void) => () => void;
  read: () => number;
}

const clocks = new Map<number, Clock>();

function clockOf(intervalMs: number): Clock {
  const known = clocks.get(intervalMs);
  if (known) return known;
  const listeners = new Set<() => void>();
  const clock: Clock = {
    now: Date.now(),
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    read: () => clock.now,
  };
  setInterval(() => {
    clock.now = Date.now();
    for (const listener of listeners) listener();
  }, intervalMs);
  clocks.set(intervalMs, clock);
  return clock;
}

/** The current time, ticking every `intervalMs` (the same instant for every caller). */
export function useNow(intervalMs = 30_000): number {
  const clock = clockOf(intervalMs);
  return useSyncExternalStore(clock.subscribe, clock.read);
}
