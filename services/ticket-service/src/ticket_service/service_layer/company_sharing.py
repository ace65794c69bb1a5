"""Which company's tickets a customer may see: their own company's, when it shares its tickets
with its customers (the portal, issue #18).

Both the tickets' use cases (who may read a ticket, the company list) and the portal's (the
company setting) need the answer; :class:`CompanySharing` gives it to both, built once in the
bootstrap before either, so neither has to reach into the other. The answer is cached for a
few seconds; :meth:`CompanySharing.forget` drops the cache after a manager's change.
"""

from __future__ import annotations

import time
import uuid
from typing import Protocol

from ticket_service.domain.customers import Customer
from ticket_service.service_layer import access

__all__ = ["COMPANY_CACHE_SECONDS", "CompanySharing", "SharedCompany"]

#: A customer's company (and whether it shares its tickets) is looked up on every read of a
#: ticket they do not own; a few seconds of staleness after a manager's change is acceptable.
COMPANY_CACHE_SECONDS = 5.0


class SharedCompany(Protocol):
    """The reader port the use cases depend on."""

    async def shared_company(self, who: access.Principal) -> uuid.UUID | None: ...


class _OwnRecords(Protocol):
    async def own_record(self, who: access.Principal) -> Customer | None: ...


class _Sharing(Protocol):
    async def company_shares_tickets(self, company_id: uuid.UUID) -> bool: ...


class CompanySharing:
    """The customer's company when it shares its tickets; read from the customer's record and
    the company setting's read model."""

    def __init__(self, customers: _OwnRecords, companies: _Sharing) -> None:
        self._customers = customers
        self._companies = companies
        self._cache: dict[str, tuple[float, uuid.UUID | None]] = {}

    async def shared_company(self, who: access.Principal) -> uuid.UUID | None:
        """The customer's company, when it shares its tickets with its customers; else None."""
        if who.role is not access.Role.CUSTOMER:
            return None
        cached = self._cache.get(who.subject)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        own = await self._customers.own_record(who)
        company = own.company_id if own is not None else None
        if company is not None and not await self._companies.company_shares_tickets(company):
            company = None
        self._cache[who.subject] = (time.monotonic() + COMPANY_CACHE_SECONDS, company)
        if len(self._cache) > 10_000:
            self._cache.clear()
        return company

    def forget(self) -> None:
        """A company's setting changed: read every answer again."""
        self._cache.clear()
