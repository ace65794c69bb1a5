"""Reads of customers, companies, agents and teams, for the people allowed to make them.

Single records come from their event streams through the applications (always current); lists
and searches come from the read models (a moment behind the log). Both check the access policy
here, so a route only parses the request and shapes the answer.
"""

from __future__ import annotations

import uuid
from contextlib import suppress
from typing import Any, Protocol

from ticket_service.adapters.directory_queries import PageRequest
from ticket_service.domain.customers import Company, CompanyNotFound, Customer, CustomerNotFound
from ticket_service.domain.directory import Agent, AgentNotFound, Team
from ticket_service.service_layer import access
from ticket_service.service_layer.access import Action
from ticket_service.service_layer.customers import CustomerApplication
from ticket_service.service_layer.directory import DirectoryApplication

__all__ = ["DirectoryReads", "PageRequest"]

Rows = tuple[list[Any], int]


class DirectoryQueries(Protocol):
    """The directory read models (``adapters/directory_queries.py``)."""

    async def customers(
        self,
        page: PageRequest,
        *,
        q: str | None = None,
        company_id: uuid.UUID | None = None,
        tag: str | None = None,
    ) -> Rows: ...

    async def companies(self, page: PageRequest, *, q: str | None = None) -> Rows: ...

    async def agents(
        self,
        page: PageRequest,
        *,
        q: str | None = None,
        role: str | None = None,
        active: bool | None = None,
        availability: str | None = None,
        team_id: uuid.UUID | None = None,
    ) -> Rows: ...

    async def teams(
        self, page: PageRequest, *, q: str | None = None, agent_id: uuid.UUID | None = None
    ) -> Rows: ...


class DirectoryReads:
    def __init__(
        self,
        queries: DirectoryQueries,
        customers: CustomerApplication,
        directory: DirectoryApplication,
    ) -> None:
        self._queries = queries
        self._customers = customers
        self._directory = directory

    # --- customers and companies -------------------------------------------------------------

    async def customers(
        self,
        who: access.Principal,
        page: PageRequest,
        *,
        q: str | None = None,
        company_id: uuid.UUID | None = None,
        tag: str | None = None,
    ) -> Rows:
        access.require(who, Action.MANAGE_CONTACTS)
        return await self._queries.customers(page, q=q, company_id=company_id, tag=tag)

    async def companies(self, who: access.Principal, page: PageRequest, *, q: str | None) -> Rows:
        access.require(who, Action.MANAGE_CONTACTS)
        return await self._queries.companies(page, q=q)

    async def company(self, who: access.Principal, company_id: uuid.UUID) -> Company:
        access.require(who, Action.MANAGE_CONTACTS)
        return await self._customers.get_company(company_id)

    async def own_contact(self, who: access.Principal) -> Customer:
        """The caller's own contact record (by the token's subject, else by its email)."""
        customer = await self._customers.own_record(who)
        if customer is None:
            raise CustomerNotFound(
                "no contact record for you yet; one is made with your first ticket"
            )
        return customer

    async def company_name(self, customer: Customer) -> str | None:
        """The name of the contact's company, shown with the contact."""
        if customer.company_id is None:
            return None
        with suppress(CompanyNotFound):  # a company id always names a company; be lenient
            return (await self._customers.get_company(customer.company_id)).name
        return None

    # --- agents and teams ---------------------------------------------------------------------

    async def agents(
        self,
        who: access.Principal,
        page: PageRequest,
        *,
        q: str | None = None,
        role: str | None = None,
        active: bool | None = None,
        availability: str | None = None,
        team_id: uuid.UUID | None = None,
    ) -> Rows:
        access.require(who, Action.READ_DIRECTORY)
        return await self._queries.agents(
            page, q=q, role=role, active=active, availability=availability, team_id=team_id
        )

    async def agent(self, who: access.Principal, agent_id: uuid.UUID) -> Agent:
        access.require(who, Action.READ_DIRECTORY)
        return await self._directory.get_agent(agent_id)

    async def own_agent(self, who: access.Principal) -> Agent:
        """The caller's own agent record (token subject = agent id, or the same email)."""
        access.require(who, Action.READ_DIRECTORY)
        agent = await self._directory.find_agent(subject=who.subject, email=who.email)
        if agent is None:
            raise AgentNotFound(
                "no agent record for you (by token subject or email); ask a manager to invite you"
            )
        return agent

    async def teams(
        self,
        who: access.Principal,
        page: PageRequest,
        *,
        q: str | None = None,
        agent_id: uuid.UUID | None = None,
    ) -> Rows:
        access.require(who, Action.READ_DIRECTORY)
        return await self._queries.teams(page, q=q, agent_id=agent_id)

    async def team(self, who: access.Principal, team_id: uuid.UUID) -> Team:
        access.require(who, Action.READ_DIRECTORY)
        return await self._directory.get_team(team_id)

    async def members(self, team: Team) -> list[Agent]:
        return await self._directory.member_agents(team)
