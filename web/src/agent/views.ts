/**
 * The ticket views of seed 003 (ticket list, unsolved, new, by status) and the agent's own
 * (mine, my team's, unassigned), as query parameters of GET /tickets.
 */
import type { operations } from "../shared/api/ticket-service";

export type TicketQuery = NonNullable<
  operations["list_tickets_tickets_get"]["parameters"]["query"]
>;

export const FIXED_VIEWS = ["list", "unsolved", "new", "mine", "unassigned"] as const;

/** A view key as kept in the URL: a fixed view, `status:<name>` or `team:<id>`. */
export function viewQuery(view: string): TicketQuery {
  if (view.startsWith("status:")) return { view: "all", status: view.slice("status:".length) };
  if (view.startsWith("team:")) return { view: "unsolved", team_id: view.slice("team:".length) };
  switch (view) {
    case "unsolved":
      return { view: "unsolved", sort: "resolution_due" };
    case "new":
      return { view: "new" };
    case "mine":
      return { view: "unsolved", assignee: "me" };
    case "unassigned":
      return { view: "unsolved", assignee: "none" };
    default:
      return { view: "unsolved" };
  }
}

export const SORTS = [
  "-updated_at",
  "-created_at",
  "resolution_due",
  "first_response_due",
  "-priority",
  "-number",
] as const;

export const PAGE_SIZE = 25;
