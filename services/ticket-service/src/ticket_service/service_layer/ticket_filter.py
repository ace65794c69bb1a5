"""What a ticket view asks for (a view, filters, a search, a sort and a page): the query object
the use cases own; ``adapters/ticket_queries.py`` turns it into SQL over the read model."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["SortKey", "TicketFilter", "View"]

#: ``new``: tickets in the New status category; ``newest`` (seed 003's "new tickets"): the
#: newest tickets across every status (sorted newest first unless a sort is given).
View = Literal["unsolved", "new", "newest", "solved", "closed", "all"]
SortKey = Literal[
    "created_at", "updated_at", "priority", "number", "first_response_due", "resolution_due"
]


@dataclass
class TicketFilter:
    view: View = "unsolved"
    status: str | None = None
    team_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    unassigned: bool = False
    customer_id: uuid.UUID | None = None
    requester_email: str | None = None
    tag: str | None = None
    priority: str | None = None
    text: str | None = None
    breached: bool | None = None
    include_merged: bool = False
    #: ``custom.<key>=value`` as given; the service layer reads them by their fields' kinds
    #: into ``custom``, a jsonb document the ticket's custom fields must contain.
    custom_wanted: dict[str, str] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    #: Customers only ever see their own tickets: (customer id, email).
    owner: tuple[uuid.UUID | None, str | None] | None = None
    #: With ``owner``: also the tickets of this company (it shares them with its customers).
    owner_company: uuid.UUID | None = None
    sort: SortKey = "created_at"
    #: ``sort=custom.<key>``: the custom field to sort by (then ``sort`` is not used).
    sort_custom: str | None = None
    descending: bool = True
    page: int = 1
    page_size: int = 25
