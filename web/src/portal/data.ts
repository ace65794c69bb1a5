/** The customer portal's reads and writes through the gateway (typed from the ticket service's
 * OpenAPI document); the branding is shared with the agent portal (shared/branding.ts). */
import { api, unwrap, type Message, type Ticket, type TicketSummary } from "../shared/api/client";
import type { Schemas } from "../shared/api/client";

export type Rating = Schemas["RatingView"];
export type Options = Schemas["TicketOptionsBody"];
export type Scope = "open" | "closed" | "company";

export const MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024;

export const keys = {
  list: (scope: Scope) => ["tickets", scope] as const,
  ticket: (id: string) => ["ticket", id] as const,
  summary: (id: string) => ["ticket", id, "summary"] as const,
  messages: (id: string) => ["ticket", id, "messages"] as const,
  ratings: (id: string) => ["ticket", id, "ratings"] as const,
  options: ["ticket-options"] as const,
};

export async function fetchList(scope: Scope): Promise<TicketSummary[]> {
  const query =
    scope === "open"
      ? { view: "unsolved" as const }
      : scope === "closed"
        ? { view: "all" as const }
        : { view: "all" as const, scope: "company" as const };
  const page = unwrap(
    await api.GET("/tickets", {
      params: { query: { ...query, sort: "-updated_at", page_size: 100 } },
    }),
  );
  if (scope !== "closed") return page.items;
  return page.items.filter(
    (t) => t.status_category === "resolved" || t.status_category === "closed",
  );
}

/** Whether the customer's company shares its tickets (the list answers 403 when not). */
export async function companyShared(): Promise<boolean> {
  const answer = await api.GET("/tickets", {
    params: { query: { view: "all", scope: "company", page_size: 1 } },
  });
  return answer.response.ok;
}

export async function fetchTicket(id: string): Promise<Ticket> {
  return unwrap(await api.GET("/tickets/{ticket_id}", { params: { path: { ticket_id: id } } }));
}

/** The ticket's row of the list, which carries its SLA due times. */
export async function fetchSummary(ticket: Ticket): Promise<TicketSummary | null> {
  if (ticket.number === null) return null;
  const page = unwrap(
    await api.GET("/tickets", {
      params: { query: { view: "all", q: `#${ticket.number}`, page_size: 5 } },
    }),
  );
  return page.items.find((item) => item.id === ticket.id) ?? null;
}

export async function fetchMessages(id: string): Promise<Message[]> {
  return unwrap(
    await api.GET("/tickets/{ticket_id}/messages", { params: { path: { ticket_id: id } } }),
  );
}

export async function fetchRatings(id: string): Promise<Rating[]> {
  return unwrap(
    await api.GET("/tickets/{ticket_id}/satisfaction", { params: { path: { ticket_id: id } } }),
  );
}

export async function fetchOptions(): Promise<Options> {
  return unwrap(await api.GET("/ticket-options"));
}

/** Upload files one by one; returns their attachment ids. */
export async function uploadAll(files: File[]): Promise<string[]> {
  const ids: string[] = [];
  for (const file of files) {
    const stored = unwrap(
      await api.POST("/attachments", {
        params: { query: { filename: file.name } },
        body: file as unknown as string,
        bodySerializer: (body: unknown) => body as File,
        headers: { "Content-Type": file.type || "application/octet-stream" },
      }),
    );
    ids.push(stored.attachment_id);
  }
  return ids;
}
