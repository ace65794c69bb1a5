"""What a ticket view asks for (a view, filters, a search, a sort and a page): the query object
the use cases own; ``adapters/ticket_queries.py`` turns it into SQL over the read model."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

__all__ = ["SortKey", "TicketFilter", "View"]

View = Literal["unsolved", "new", "solved", "closed", "all"]
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
    #: Customers only ever see their own tickets: (customer id, email).
    owner: tuple[uuid.UUID | None, str | None] | None = None
    sort: SortKey = "created_at"
    descending: bool = True
    page: int = 1
    page_size: int = 25
