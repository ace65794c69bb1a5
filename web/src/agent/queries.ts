/** Query keys and fetchers of one ticket, shared by the ticket page and its composer. */
import { api, unwrap, type Message } from "../shared/api/client";

export function ticketKey(id: string) {
  return ["ticket", id] as const;
}

export function messagesKey(id: string) {
  return ["ticket", id, "messages"] as const;
}

export async function fetchMessages(ticketId: string): Promise<Message[]> {
  return unwrap(
    await api.GET("/tickets/{ticket_id}/messages", { params: { path: { ticket_id: ticketId } } }),
  );
}
