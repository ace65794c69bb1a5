"""Customer and company use cases: register (contacts unique by email), read, edit, and
``resolve_customer`` for opening a ticket for an existing or a new customer in one call.

Each command loads the aggregate from its stream, decides, and appends with the version it read,
so a concurrent change is a conflict, never a lost update. A command without an expected version
from the caller simply retries on such a conflict (it re-reads and decides again).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from helpdesk_events import DomainEvent
from helpdesk_events.customers import COMPANY, CUSTOMER, CompanyField, CustomerField
from ticket_service.domain import customers as rules
from ticket_service.domain.customers import (
    Company,
    CompanyNotFound,
    ContactExists,
    Customer,
    CustomerNotFound,
    InvalidCustomerData,
)
from ticket_service.service_layer import access
from ticket_service.service_layer.claims import CONTACT_EMAIL, Claim, ClaimStore, ClaimTaken
from ticket_service.service_layer.context import CommandContext
from ticket_service.service_layer.event_store import EventStore
from ticket_service.service_layer.streams import (
    StreamWriter,
    folded,
    pinned_or_retried,
    refuse_stale,
)


@dataclass(frozen=True)
class NewCustomer:
    name: str
    email: str | None = None
    phone: str | None = None
    tags: tuple[str, ...] = ()
    gender: str | None = None
    channel: str | None = None
    ip_address: str | None = None
    company_id: uuid.UUID | None = None
    job_title: str | None = None
    role: str | None = None
    country: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class CustomerEdit:
    """Only the fields present in ``profile`` change; ``tags`` (when given) replaces the tags."""

    profile: dict[CustomerField, str | uuid.UUID | None] = field(default_factory=dict)
    tags: tuple[str, ...] | None = None


@dataclass(frozen=True)
class NewCompany:
    name: str
    website: str | None = None
    city: str | None = None
    phone: str | None = None
    country: str | None = None
    tier: str | None = None
    tags: tuple[str, ...] = ()


class CustomerApplication:
    def __init__(
        self,
        store: EventStore,
        claims: ClaimStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._streams = StreamWriter(store, claims, clock)

    # --- customers ----------------------------------------------------------------------------

    async def get_customer(self, customer_id: uuid.UUID) -> Customer:
        recorded = await self._streams.read(customer_id, CUSTOMER)
        if not recorded:
            raise CustomerNotFound(f"no customer {customer_id}")
        return rules.replay_customer(customer_id, folded(recorded))

    async def read_customer(self, who: access.Principal, customer_id: uuid.UUID) -> Customer:
        """A contact as the caller may see it: staff any, a customer only their own (another
        contact is a :class:`CustomerNotFound`, never told apart from a missing one)."""
        customer = await self.get_customer(customer_id)
        if not access.is_own_contact(who, customer.id, customer.email):
            raise CustomerNotFound(f"no customer {customer_id}")
        return customer

    async def own_record(self, who: access.Principal) -> Customer | None:
        """The caller's own contact record: by the token's subject, else by its email."""
        own_id = access.subject_id(who)
        if own_id is not None:
            try:
                return await self.get_customer(own_id)
            except CustomerNotFound:
                pass
        return await self.find_customer_by_email(who.email) if who.email else None

    async def find_customer_by_email(self, email: str) -> Customer | None:
        """The contact with this email (any case), read from the log, not a lagging view."""
        normalised = rules.normalise_email(email)
        if normalised is None:
            return None
        owner = await self._streams.claims.owner(CONTACT_EMAIL, normalised)
        if owner is None:
            return None
        return await self.get_customer(owner)

    async def register_customer(self, new: NewCustomer, context: CommandContext) -> Customer:
        """Register a contact; raises :class:`ContactExists` (with its id) if the email is taken."""
        access.require(access.caller_of(context), access.Action.MANAGE_CONTACTS)
        return await self._register_customer(new, context)

    async def _register_customer(
        self, new: NewCustomer, context: CommandContext, *, unclaimed: bool = False
    ) -> Customer:
        """Register a contact (also for a customer's own first ticket, see resolve_customer;
        ``unclaimed``: the caller has just looked, nobody had the email)."""
        registered = rules.register_customer(
            name=new.name,
            email=new.email,
            phone=new.phone,
            tags=new.tags,
            gender=new.gender,
            channel=new.channel,
            ip_address=new.ip_address,
            company_id=new.company_id,
            job_title=new.job_title,
            role=new.role,
            country=new.country,
            language=new.language,
        )
        if registered.company_id is not None:
            await self._require_company(registered.company_id)
        customer_id = uuid.uuid4()
        claim = None
        if registered.email is not None:
            # Cheap early answer for the common duplicate; the claim below settles races.
            existing = (
                None
                if unclaimed
                else await self._streams.claims.owner(CONTACT_EMAIL, registered.email)
            )
            if existing is not None:
                raise ContactExists(registered.email, existing)
            claim = Claim(CONTACT_EMAIL, registered.email, customer_id)
        try:
            now = await self._streams.append(
                customer_id, CUSTOMER, 0, [registered], context, claim=claim
            )
        except ClaimTaken as taken:
            raise ContactExists(taken.claim.key, taken.existing_owner) from None
        return rules.apply_customer(None, customer_id, registered, now)

    async def change_customer(
        self,
        customer_id: uuid.UUID,
        edit: CustomerEdit,
        context: CommandContext,
        *,
        expected_version: int | None = None,
    ) -> Customer:
        """Edit profile fields and/or tags; an edit that changes nothing returns the contact."""
        access.require(access.caller_of(context), access.Action.MANAGE_CONTACTS)

        async def attempt() -> Customer:
            customer = await self.get_customer(customer_id)
            refuse_stale(customer_id, expected_version, customer.version)
            events: list[DomainEvent] = []
            profile = rules.change_customer_profile(customer, edit.profile)
            if profile is not None:
                events.append(profile)
            if edit.tags is not None:
                tags = rules.change_customer_tags(customer, edit.tags)
                if tags is not None:
                    events.append(tags)
            if not events:
                return customer
            claim = release = None
            for change in profile.changes if profile is not None else ():
                if change.field == "company_id" and change.new is not None:
                    await self._require_company(uuid.UUID(change.new))
                if change.field == "email":
                    if change.old is not None:
                        release = Claim(CONTACT_EMAIL, change.old, customer_id)
                    if change.new is not None:
                        claim = Claim(CONTACT_EMAIL, change.new, customer_id)
            try:
                now = await self._streams.append(
                    customer_id,
                    CUSTOMER,
                    customer.version,
                    events,
                    context,
                    claim=claim,
                    release=release,
                )
            except ClaimTaken as taken:
                raise ContactExists(taken.claim.key, taken.existing_owner) from None
            for event in events:
                customer = rules.apply_customer(customer, customer_id, event, now)
            return customer

        return await pinned_or_retried(expected_version, attempt)

    async def resolve_customer(
        self,
        context: CommandContext,
        *,
        customer_id: uuid.UUID | None = None,
        new_customer: NewCustomer | None = None,
    ) -> uuid.UUID:
        """The customer a new ticket is for: an existing one by id, or by new-customer details.

        - ``customer_id``: it must exist (else :class:`CustomerNotFound`).
        - ``new_customer``: when a contact has that email already, its id (the details given are
          not applied to it); otherwise a new contact is registered. Concurrent calls with one
          new email all get the same single contact.
        Give exactly one of the two (else :class:`InvalidCustomerData`).
        """
        if (customer_id is None) == (new_customer is None):
            raise InvalidCustomerData(
                "give either customer_id (an existing customer) or the new customer's details"
                " (name, email, phone), not both or neither"
            )
        if customer_id is not None:
            await self.get_customer(customer_id)
            return customer_id
        assert new_customer is not None
        email = rules.normalise_email(new_customer.email)
        if email is not None:
            existing = await self._streams.claims.owner(CONTACT_EMAIL, email)
            if existing is not None:
                return existing
        try:
            return (await self._register_customer(new_customer, context, unclaimed=True)).id
        except ContactExists as exists:  # a concurrent twin registered it first
            return exists.existing_id

    # --- companies ----------------------------------------------------------------------------

    async def get_company(self, company_id: uuid.UUID) -> Company:
        recorded = await self._streams.read(company_id, COMPANY)
        if not recorded:
            raise CompanyNotFound(f"no company {company_id}")
        return rules.replay_company(company_id, folded(recorded))

    async def _require_company(self, company_id: uuid.UUID) -> None:
        if not await self._streams.read(company_id, COMPANY):
            raise InvalidCustomerData(
                f"company_id: no company {company_id}; create it first (POST /companies)"
            )

    async def register_company(self, new: NewCompany, context: CommandContext) -> Company:
        access.require(access.caller_of(context), access.Action.MANAGE_CONTACTS)
        registered = rules.register_company(
            name=new.name,
            website=new.website,
            city=new.city,
            phone=new.phone,
            country=new.country,
            tier=new.tier,
            tags=new.tags,
        )
        company_id = uuid.uuid4()
        now = await self._streams.append(company_id, COMPANY, 0, [registered], context)
        return rules.apply_company(None, company_id, registered, now)

    async def change_company(
        self,
        company_id: uuid.UUID,
        changes: dict[CompanyField, str | None],
        context: CommandContext,
        *,
        expected_version: int | None = None,
        tags: tuple[str, ...] | None = None,
    ) -> Company:
        """Edit profile fields (country, tier, ...) and/or replace the tags (when given)."""
        access.require(access.caller_of(context), access.Action.MANAGE_CONTACTS)

        async def attempt() -> Company:
            company = await self.get_company(company_id)
            refuse_stale(company_id, expected_version, company.version)
            events: list[DomainEvent] = []
            changed = rules.change_company_profile(company, changes)
            if changed is not None:
                events.append(changed)
            if tags is not None:
                tags_changed = rules.change_company_tags(company, tags)
                if tags_changed is not None:
                    events.append(tags_changed)
            if not events:
                return company
            now = await self._streams.append(company_id, COMPANY, company.version, events, context)
            for event in events:
                company = rules.apply_company(company, company_id, event, now)
            return company

        return await pinned_or_retried(expected_version, attempt)
