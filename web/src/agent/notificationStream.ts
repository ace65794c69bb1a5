/**
 * The notification service's live feed (GET /api/notifications/stream, Server-Sent Events) read
 * with fetch rather than EventSource: fetch sends the bearer token in the Authorization header
 * (EventSource could only put it in the URL, where proxies log it) and goes through the silent
 * refresh on a 401. On a dropped connection it reconnects with Last-Event-ID, so the service
 * sends every notification stored since the last one seen (none is lost), backing off up to 15 s.
 */
import { authorisedFetch } from "../shared/api/client";

export interface AppNotification {
  id: string;
  seq: number;
  kind: string;
  title: string;
  body: string;
  ticket_id: string | null;
  ticket_number: number | null;
  event_type: string;
  occurred_at: string;
  created_at: string;
  read: boolean;
}

export interface NotificationPage {
  items: AppNotification[];
  unread_count: number;
  next_before: number | null;
}

interface RawEvent {
  id: string | null;
  event: string;
  data: string;
}

/** Splits an SSE byte stream into events (the WHATWG rules: fields, comments, blank lines). */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<RawEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let event: RawEvent = { id: null, event: "message", data: "" };
  let hasData = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let newline: number;
    while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1));
      if (line === "") {
        if (hasData) yield event;
        event = { id: event.id, event: "message", data: "" };
        hasData = false;
        continue;
      }
      if (line.startsWith(":")) continue; // a keep-alive comment
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const raw = colon < 0 ? "" : line.slice(colon + 1);
      const text = raw.startsWith(" ") ? raw.slice(1) : raw;
      if (field === "data") {
        event.data = hasData ? `${event.data}\n${text}` : text;
        hasData = true;
      } else if (field === "event") event.event = text;
      else if (field === "id") event.id = text;
    }
  }
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Follows the stream until `signal` aborts, calling `onNotification` for each new one and
 * `onConnected` each time the stream (re)opens.
 */
export async function followNotifications(
  signal: AbortSignal,
  onNotification: (notification: AppNotification) => void,
  onConnected: () => void,
): Promise<void> {
  let lastEventId: string | null = null;
  let backoff = 1000;
  while (!signal.aborted) {
    try {
      const headers: Record<string, string> = { Accept: "text/event-stream" };
      if (lastEventId !== null) headers["Last-Event-ID"] = lastEventId;
      const response = await authorisedFetch(
        new Request("/api/notifications/stream", { headers, signal }),
      );
      if (response.ok && response.body) {
        onConnected();
        backoff = 1000;
        for await (const event of sseEvents(response.body)) {
          if (event.id !== null) lastEventId = event.id;
          if (event.event !== "notification") continue;
          onNotification(JSON.parse(event.data) as AppNotification);
        }
      }
    } catch {
      // Aborted, offline or the service is restarting: try again below.
    }
    await sleep(backoff, signal);
    backoff = Math.min(backoff * 2, 15_000);
  }
}

export async function fetchNotifications(): Promise<NotificationPage> {
  const response = await authorisedFetch(new Request("/api/notifications?limit=20"));
  if (!response.ok) throw new Error(`notifications: HTTP ${response.status}`);
  return (await response.json()) as NotificationPage;
}

export async function markRead(id: string): Promise<void> {
  await authorisedFetch(
    new Request(`/api/notifications/${encodeURIComponent(id)}/read`, { method: "POST" }),
  );
}

export async function markAllRead(upTo: number): Promise<void> {
  await authorisedFetch(
    new Request(`/api/notifications/read-all?up_to=${upTo}`, { method: "POST" }),
  );
}
