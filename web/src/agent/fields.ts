/**
 * The editable fields of a ticket, and the pure diff logic behind If-Match edits: what the agent
 * changed (draft vs the version they saw), what someone else changed meanwhile (that version vs
 * the latest), and the body that re-applies the agent's changes on the latest version.
 */
import type { Ticket, TicketUpdate } from "../shared/api/client";

export const SCALAR_FIELDS = [
  "status",
  "priority",
  "type",
  "category",
  "team_id",
  "assignee_id",
] as const;
export type ScalarField = (typeof SCALAR_FIELDS)[number];

export interface Draft {
  status: string;
  priority: string;
  type: string | null;
  category: string | null;
  team_id: string | null;
  assignee_id: string | null;
  tags: string[];
}

export function draftOf(ticket: Ticket): Draft {
  return {
    status: ticket.status,
    priority: ticket.priority,
    type: ticket.type,
    category: ticket.category,
    team_id: ticket.team_id,
    assignee_id: ticket.assignee_id,
    tags: [...ticket.tags],
  };
}

export type FieldName = ScalarField | "tags";

export interface Change {
  field: FieldName;
  from: string | null;
  to: string | null;
}

/** The fields that differ between two drafts (tags compared as sets). */
export function changes(before: Draft, after: Draft): Change[] {
  const found: Change[] = [];
  for (const field of SCALAR_FIELDS) {
    if ((before[field] ?? null) !== (after[field] ?? null)) {
      found.push({ field, from: before[field] ?? null, to: after[field] ?? null });
    }
  }
  const a = [...before.tags].sort();
  const b = [...after.tags].sort();
  if (a.join("\u0000") !== b.join("\u0000")) {
    found.push({ field: "tags", from: a.join(", ") || null, to: b.join(", ") || null });
  }
  return found;
}

/** The PATCH body that takes `base` to `draft` (only what changed; tags as add/remove). */
export function updateBody(base: Draft, draft: Draft): TicketUpdate {
  const body: TicketUpdate = {};
  for (const field of SCALAR_FIELDS) {
    if ((base[field] ?? null) !== (draft[field] ?? null)) {
      (body as Record<string, unknown>)[field] = draft[field];
    }
  }
  const added = draft.tags.filter((tag) => !base.tags.includes(tag));
  const removed = base.tags.filter((tag) => !draft.tags.includes(tag));
  if (added.length) body.add_tags = added;
  if (removed.length) body.remove_tags = removed;
  return body;
}

/** The agent's draft carried onto the latest version: their changes win, others' stay. */
export function rebase(base: Draft, draft: Draft, latest: Draft): Draft {
  const next: Draft = { ...latest, tags: [...latest.tags] };
  for (const field of SCALAR_FIELDS) {
    if ((base[field] ?? null) !== (draft[field] ?? null)) {
      (next as unknown as Record<string, unknown>)[field] = draft[field];
    }
  }
  const added = draft.tags.filter((tag) => !base.tags.includes(tag));
  const removed = new Set(base.tags.filter((tag) => !draft.tags.includes(tag)));
  next.tags = [...new Set([...latest.tags.filter((tag) => !removed.has(tag)), ...added])];
  return next;
}
