/**
 * A ticket page's live link to the notification service: heartbeats that tell the other agents
 * this agent is viewing the ticket or writing a reply (PUT /api/presence/tickets/{id} every 10 s
 * and at once on a change; DELETE when the page closes), and the ticket's feed (GET …/stream,
 * Server-Sent Events read with fetch as the bell's stream is): `presence` lists the other agents
 * there, `changed` says someone changed the ticket, so its cached queries are re-read at once.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import createClient from "openapi-fetch";
import type { components, paths } from "../shared/api/admin-services";
import { authorisedFetch } from "../shared/api/client";
import { sseEvents, sleep } from "./notificationStream";

export type OtherAgent = components["schemas"]["PresenceOut"];
export type Activity = components["schemas"]["HeartbeatIn"]["activity"];

const presenceApi = createClient<paths>({ baseUrl: "/api", fetch: authorisedFetch });

/** The service forgets a page 30 s after its last heartbeat. */
const HEARTBEAT_MS = 10_000;

/** A random UUID (v4); randomUUID only exists in secure contexts (https, loopback). */
function newSession(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

async function heartbeat(ticketId: string, session: string, activity: Activity): Promise<void> {
  await presenceApi.PUT("/presence/tickets/{ticket_id}", {
    params: { path: { ticket_id: ticketId } },
    body: { session, activity },
  });
}

function leave(ticketId: string, session: string): void {
  // keepalive: the request outlives a closing tab.
  void authorisedFetch(
    new Request(
      `/api/presence/tickets/${encodeURIComponent(ticketId)}?session=${encodeURIComponent(session)}`,
      { method: "DELETE", keepalive: true },
    ),
  ).catch(() => undefined);
}

async function follow(
  ticketId: string,
  signal: AbortSignal,
  onPresence: (others: OtherAgent[]) => void,
  onChanged: () => void,
): Promise<void> {
  let backoff = 1000;
  while (!signal.aborted) {
    try {
      const response = await authorisedFetch(
        new Request(`/api/presence/tickets/${encodeURIComponent(ticketId)}/stream`, {
          headers: { Accept: "text/event-stream" },
          signal,
        }),
      );
      if (response.ok && response.body) {
        backoff = 1000;
        for await (const event of sseEvents(response.body)) {
          if (event.event === "presence") onPresence(JSON.parse(event.data) as OtherAgent[]);
          else if (event.event === "changed") onChanged();
        }
      }
    } catch {
      // Aborted, offline or the service is restarting: try again below.
    }
    // Not known while disconnected: show nobody (unless the page left; TypeScript cannot see
    // that the awaits above may have aborted the signal).
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    if (!signal.aborted) onPresence([]);
    await sleep(backoff, signal);
    backoff = Math.min(backoff * 2, 15_000);
  }
}

/**
 * Presence and live refresh of the ticket on screen. Returns the other agents there and a
 * setter for this agent's own activity (the ticket page sets "replying" while the reply editor
 * has the focus).
 */
export function useTicketLive(ticketId: string): {
  others: OtherAgent[];
  setActivity: (activity: Activity) => void;
} {
  const queryClient = useQueryClient();
  // Kept with the ticket they belong to: another ticket's list is never shown.
  const [seen, setSeen] = useState<{ ticketId: string; others: OtherAgent[] }>({
    ticketId,
    others: [],
  });
  const [activity, setActivity] = useState<Activity>("viewing");
  const activityRef = useRef<Activity>("viewing");
  const sessionRef = useRef<string | null>(null);

  useEffect(() => {
    const session = newSession();
    sessionRef.current = session;
    const controller = new AbortController();
    const onPresence = (others: OtherAgent[]) => setSeen({ ticketId, others });
    void follow(ticketId, controller.signal, onPresence, () => {
      void queryClient.invalidateQueries({ queryKey: ["ticket", ticketId] });
      void queryClient.invalidateQueries({ queryKey: ["tickets", ticketId] });
    });
    const beat = () =>
      void heartbeat(ticketId, session, activityRef.current).catch(() => undefined);
    beat();
    const timer = window.setInterval(beat, HEARTBEAT_MS);
    const onHide = () => leave(ticketId, session);
    window.addEventListener("pagehide", onHide);
    return () => {
      controller.abort();
      window.clearInterval(timer);
      window.removeEventListener("pagehide", onHide);
      sessionRef.current = null;
      leave(ticketId, session);
    };
  }, [ticketId, queryClient]);

  useEffect(() => {
    if (activityRef.current === activity) return;
    activityRef.current = activity;
    const session = sessionRef.current;
    if (session) void heartbeat(ticketId, session, activity).catch(() => undefined);
  }, [activity, ticketId]);

  return { others: seen.ticketId === ticketId ? seen.others : [], setActivity };
}
