"""Ticket use cases as the portals ask for them: with attachment ids, raw view parameters and
the caller's own view of the answer.

The HTTP routes parse a request and call one method here; what used to sit in the routes (which
files a caller may attach, resolving ``assignee=me``, answering a customer with the ticket as
they see it) is decided here, next to the access policy, so every entry point gets the same
rules.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, get_args

from helpdesk_events import Visibility
from ticket_service.domain.errors import DomainError
from ticket_service.domain.ticket import NewMessage, NewTicket, Ticket
from ticket_service.service_layer import access
from ticket_service.service_layer.attachments import AttachmentFiles
from ticket_service.service_layer.context import CommandContext
from ticket_service.service_layer.directory import DirectoryApplication
from ticket_service.service_layer.idempotency import IdempotencyRequest
from ticket_service.service_layer.ticket_filter import SortKey, TicketFilter, View
from ticket_service.service_layer.tickets import TicketApplication

__all__ = ["SORT_KEYS", "BadSearch", "TicketRequests", "TicketSearch", "View"]

SORT_KEYS: tuple[str, ...] = get_args(SortKey)


class BadSearch(DomainError):
    """A view parameter names nothing that can be searched (HTTP 422)."""


@dataclass(frozen=True)
class TicketSearch:
    """A ticket view as asked for: ``assignee`` is an agent id, ``me`` or ``none``; ``sort`` a
    key with an optional leading ``-`` (descending)."""

    view: View = "unsolved"
    q: str | None = None
    status: str | None = None
    team_id: uuid.UUID | None = None
    assignee: str | None = None
    customer_id: uuid.UUID | None = None
    requester_email: str | None = None
    tag: str | None = None
    priority: str | None = None
    breached: bool | None = None
    include_merged: bool = False
    sort: str = "-created_at"
    page: int = 1
    page_size: int = 25
    #: ``custom.<key>=value`` as given (read by the fields' kinds when searching).
    custom_wanted: Mapping[str, str] = field(default_factory=dict)
    #: Customers: their company's tickets (where it shares them) instead of their own.
    company: bool = False


@dataclass(frozen=True)
class Reply:
    """A message as a caller writes it, before its attachments are resolved."""

    body_html: str
    visibility: Visibility
    set_status: str | None
    attachment_ids: Sequence[uuid.UUID] = ()


class TicketRequests:
    def __init__(
        self, tickets: TicketApplication, directory: DirectoryApplication, files: AttachmentFiles
    ) -> None:
        self._tickets = tickets
        self._directory = directory
        self._files = files

    async def open_ticket(
        self,
        who: access.Principal,
        new: NewTicket,
        attachment_ids: Sequence[uuid.UUID],
        context: CommandContext,
        idempotency: IdempotencyRequest | None = None,
    ) -> tuple[Ticket, bool]:
        """Open a ticket with the files the caller may attach; ``True`` when a retry with the
        same idempotency key returned the first answer."""
        new = replace(new, attachments=await self._files.refs(who, attachment_ids))
        return await self._tickets.create_ticket(new, context, idempotency)

    async def find_tickets(
        self, who: access.Principal, search: TicketSearch
    ) -> tuple[list[Any], int]:
        """A ticket view, filtered, searched and sorted; customers only find their own."""
        sort_key = search.sort.removeprefix("-")
        sort_custom = sort_key.removeprefix("custom.") if sort_key.startswith("custom.") else None
        if sort_custom is not None:
            sort_key = "created_at"  # the tie-breaker of equal values is the ticket id
        elif sort_key not in SORT_KEYS:
            raise BadSearch(f"cannot sort by {sort_key!r}; use one of {SORT_KEYS} or custom.<key>")
        assignee_id, unassigned = await self._assignee(who, search.assignee)
        where = TicketFilter(
            view=search.view,
            status=search.status,
            team_id=search.team_id,
            assignee_id=assignee_id,
            unassigned=unassigned,
            customer_id=search.customer_id,
            requester_email=search.requester_email,
            tag=search.tag,
            priority=search.priority,
            text=search.q,
            breached=search.breached,
            include_merged=search.include_merged,
            sort=sort_key,  # type: ignore[arg-type]  # checked against SORT_KEYS above
            sort_custom=sort_custom,
            descending=search.sort.startswith("-"),
            page=search.page,
            page_size=search.page_size,
            custom_wanted=dict(search.custom_wanted),
        )
        return await self._tickets.search(who, where, company=search.company)

    async def _assignee(
        self, who: access.Principal, assignee: str | None
    ) -> tuple[uuid.UUID | None, bool]:
        """``(agent id, unassigned only)`` for ``assignee``: an id, ``me`` or ``none``."""
        if assignee is None:
            return None, False
        if assignee == "none":
            return None, True
        if assignee == "me":
            me = await self._directory.find_agent(subject=who.subject, email=who.email)
            if me is None:
                raise BadSearch(
                    "`assignee=me` needs a token of an agent in the directory (by id or email)"
                )
            return me.id, False
        try:
            return uuid.UUID(assignee), False
        except ValueError:
            raise BadSearch("assignee must be an agent id, `me` or `none`") from None

    async def reply(
        self, who: access.Principal, ticket_id: uuid.UUID, reply: Reply, context: CommandContext
    ) -> tuple[Ticket, uuid.UUID | None, Ticket | None]:
        """Add a message: ``(ticket, message id, follow-up)``, each as the caller sees it. A
        customer writing to a Closed ticket opens a follow-up instead (no message id then)."""
        by_customer = who.role is access.Role.CUSTOMER
        message = NewMessage(
            body_html=reply.body_html,
            visibility=reply.visibility,
            by_customer=by_customer,
            set_status=reply.set_status,
            channel="portal" if by_customer else "agent",
            attachments=await self._files.refs(who, reply.attachment_ids),
        )
        ticket, message_id, follow_up = await self._tickets.add_message(ticket_id, message, context)
        if by_customer:  # answered with the tickets as the customer sees them
            ticket = await self._tickets.read_ticket(who, ticket.id)
            if follow_up is not None:
                follow_up = await self._tickets.read_ticket(who, follow_up.id)
        return ticket, None if follow_up else message_id, follow_up
