"""Customers (contacts) and companies: state folded from their events, decisions that emit new ones.

A contact is a person who asks for help; a company groups contacts (the contact's job title and
role at it live on the contact). Decisions check the rules and return event data, never mutate;
``apply_customer`` / ``apply_company`` fold stored events into state.

Emails are normalised (stripped, lowercase) before they are stored, so the uniqueness of contacts
by email (enforced by the service layer's claims) does not depend on how someone typed it.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar, get_args
from urllib.parse import urlsplit

import pycountry
from pydantic import ValidationError

from helpdesk_events import DomainEvent
from helpdesk_events.customers import (
    CompanyField,
    CompanyFieldChange,
    CompanyProfileChanged,
    CompanyRegistered,
    CompanyTagsChanged,
    CustomerField,
    CustomerFieldChange,
    CustomerProfileChanged,
    CustomerRegistered,
    CustomerTagsChanged,
)
from ticket_service.domain.errors import DomainError

CUSTOMER_FIELDS: tuple[CustomerField, ...] = get_args(CustomerField)
COMPANY_FIELDS: tuple[CompanyField, ...] = get_args(CompanyField)


class CustomerNotFound(DomainError):
    pass


class CompanyNotFound(DomainError):
    pass


class InvalidCustomerData(DomainError):
    """A contact or company value the rules refuse (the message names the field)."""


class ContactExists(DomainError):
    """Contacts are unique by email; this one is taken."""

    def __init__(self, email: str, existing_id: uuid.UUID) -> None:
        super().__init__(
            f"contact with this email exists: {existing_id} ({email}); "
            "use that contact or give another email"
        )
        self.email = email
        self.existing_id = existing_id


# --- value cleaning ---------------------------------------------------------------------------


def normalise_email(email: str | None) -> str | None:
    """Emails compare case-insensitively in practice: store them stripped and lowercase."""
    if email is None:
        return None
    return email.strip().lower() or None


def clean_text(value: str | None) -> str | None:
    """Trim; an empty value means "not given"."""
    if value is None:
        return None
    return value.strip() or None


def clean_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Lowercase, trimmed, unique, in the order given (as ticket tags)."""
    return tuple(dict.fromkeys(tag.strip().lower() for tag in tags if tag.strip()))


def clean_ip_address(value: str | None) -> str | None:
    cleaned = clean_text(value)
    if cleaned is None:
        return None
    try:
        return str(ipaddress.ip_address(cleaned))
    except ValueError:
        raise InvalidCustomerData(
            f"ip_address {cleaned!r} is not an IPv4 or IPv6 address"
        ) from None


def clean_language(value: str | None) -> str | None:
    """An ISO 639-1 code ("id", "en", "hi"), lower case, as teams' languages are spelt."""
    return _iso_code(
        value, pycountry.languages, "language", "an ISO 639-1 language code (e.g. id, en, hi)"
    )


def clean_country(value: str | None) -> str | None:
    """An ISO 3166-1 alpha-2 code ("ID", "IN"), upper case, so that SLA and assignment
    conditions compare one spelling (``customer_country == "IN"``); pycountry knows the list."""
    code = _iso_code(
        value,
        pycountry.countries,
        "country",
        "an ISO 3166-1 alpha-2 country code (e.g. ID, IN, SG)",
    )
    return None if code is None else code.upper()


def _iso_code(value: str | None, database: Any, name: str, expected: str) -> str | None:
    """A two-letter code ``database`` (a pycountry list) knows, lower case; None when empty."""
    cleaned = clean_text(value)
    if cleaned is None:
        return None
    code = cleaned.lower()
    if len(code) != 2 or database.get(alpha_2=code) is None:
        raise InvalidCustomerData(f"{name}: {cleaned!r} is not {expected}")
    return code


def _required_name(value: str | None, what: str) -> str:
    cleaned = clean_text(value)
    if cleaned is None:
        raise InvalidCustomerData(f"name: a {what} needs a name")
    return cleaned


E = TypeVar("E", bound=DomainEvent)


def _event(cls: type[E], **fields: Any) -> E:
    """Build event data; the contract's own limits (lengths, email syntax) become domain errors."""
    try:
        return cls(**fields)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}"
            for issue in error.errors()
        )
        raise InvalidCustomerData(problems) from None


# --- customers (contacts) ---------------------------------------------------------------------


@dataclass(frozen=True)
class Customer:
    id: uuid.UUID
    version: int
    name: str
    email: str | None
    phone: str | None
    tags: tuple[str, ...]
    gender: str | None
    channel: str | None
    ip_address: str | None
    company_id: uuid.UUID | None
    job_title: str | None
    role: str | None
    created_at: datetime
    updated_at: datetime
    country: str | None = None
    language: str | None = None

    def field_value(self, name: CustomerField) -> str | None:
        """A profile field as the events carry it (text or None)."""
        value = getattr(self, name)
        return None if value is None else str(value)


def register_customer(
    *,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    tags: Iterable[str] = (),
    gender: str | None = None,
    channel: str | None = None,
    ip_address: str | None = None,
    company_id: uuid.UUID | None = None,
    job_title: str | None = None,
    role: str | None = None,
    country: str | None = None,
    language: str | None = None,
) -> CustomerRegistered:
    """Decide the first event of a new contact."""
    return _event(
        CustomerRegistered,
        name=_required_name(name, "contact"),
        email=normalise_email(email),
        phone=clean_text(phone),
        tags=clean_tags(tags),
        gender=clean_text(gender),
        channel=clean_text(channel),
        ip_address=clean_ip_address(ip_address),
        company_id=company_id,
        job_title=clean_text(job_title),
        role=clean_text(role),
        country=clean_country(country),
        language=clean_language(language),
    )


def _clean_customer_field(name: CustomerField, value: str | uuid.UUID | None) -> str | None:
    if name == "company_id":
        if value is None or isinstance(value, uuid.UUID):
            return None if value is None else str(value)
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise InvalidCustomerData(f"company_id {value!r} is not a UUID") from None
    if isinstance(value, uuid.UUID):
        raise InvalidCustomerData(f"{name}: expected text, got a UUID")
    if name == "name":
        return _required_name(value, "contact")
    if name == "email":
        return normalise_email(value)
    if name == "ip_address":
        return clean_ip_address(value)
    if name == "country":
        return clean_country(value)
    if name == "language":
        return clean_language(value)
    return clean_text(value)


def change_customer_profile(
    customer: Customer, changes: Mapping[CustomerField, str | uuid.UUID | None]
) -> CustomerProfileChanged | None:
    """Decide a profile edit; None when every given value is what the contact already has.

    Only the fields in ``changes`` are edited; a None (or blank) value empties the field, except
    the name, which a contact always has.
    """
    field_changes: list[CustomerFieldChange] = []
    for name, value in changes.items():
        if name not in CUSTOMER_FIELDS:
            raise InvalidCustomerData(
                f"unknown contact field {name!r}; use one of {', '.join(CUSTOMER_FIELDS)}"
            )
        new = _clean_customer_field(name, value)
        old = customer.field_value(name)
        if new != old:
            field_changes.append(CustomerFieldChange(field=name, old=old, new=new))
    if not field_changes:
        return None
    return _event(CustomerProfileChanged, changes=tuple(field_changes))


def change_customer_tags(customer: Customer, tags: Iterable[str]) -> CustomerTagsChanged | None:
    """Decide the tags becoming exactly ``tags``; None when they already are."""
    diff = tags_diff(customer.tags, tags)
    return None if diff is None else CustomerTagsChanged(added=diff[0], removed=diff[1])


def tags_diff(
    current: tuple[str, ...], tags: Iterable[str]
) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(added, removed) for the tags becoming exactly ``tags``; None when they already are."""
    wanted = clean_tags(tags)
    added = tuple(tag for tag in wanted if tag not in current)
    removed = tuple(tag for tag in current if tag not in wanted)
    return (added, removed) if added or removed else None


def with_tags_changed(
    current: tuple[str, ...], added: tuple[str, ...], removed: tuple[str, ...]
) -> tuple[str, ...]:
    kept = tuple(tag for tag in current if tag not in removed)
    return kept + tuple(t for t in added if t not in kept)


def apply_customer(
    customer: Customer | None, customer_id: uuid.UUID, event: DomainEvent, occurred_at: datetime
) -> Customer:
    """The state after ``event``; ``customer`` is None before the first event."""
    if isinstance(event, CustomerRegistered):
        if customer is not None:
            raise ValueError(f"customer {customer_id} registered twice")
        return Customer(
            id=customer_id,
            version=1,
            name=event.name,
            email=normalise_email(event.email),
            phone=event.phone,
            tags=event.tags,
            gender=event.gender,
            channel=event.channel,
            ip_address=event.ip_address,
            company_id=event.company_id,
            job_title=event.job_title,
            role=event.role,
            country=event.country,
            language=event.language,
            created_at=occurred_at,
            updated_at=occurred_at,
        )
    if customer is None:
        raise ValueError(f"customer {customer_id}: {type(event).__name__} before registration")
    customer = replace(customer, version=customer.version + 1, updated_at=occurred_at)
    if isinstance(event, CustomerProfileChanged):
        values: dict[str, Any] = {}
        for change in event.changes:
            if change.field == "company_id":
                values["company_id"] = uuid.UUID(change.new) if change.new else None
            elif change.field == "name":
                values["name"] = change.new or customer.name
            else:
                values[change.field] = change.new
        return replace(customer, **values)
    if isinstance(event, CustomerTagsChanged):
        return replace(customer, tags=with_tags_changed(customer.tags, event.added, event.removed))
    return customer  # an event type this version does not fold still counts as a version


def replay_customer(
    customer_id: uuid.UUID, events: Iterable[tuple[DomainEvent, datetime]]
) -> Customer:
    customer: Customer | None = None
    for event, occurred_at in events:
        customer = apply_customer(customer, customer_id, event, occurred_at)
    if customer is None:
        raise CustomerNotFound(f"no customer {customer_id}")
    return customer


# --- companies --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Company:
    id: uuid.UUID
    version: int
    name: str
    website: str | None
    city: str | None
    phone: str | None
    created_at: datetime
    updated_at: datetime
    country: str | None = None
    tier: str | None = None
    tags: tuple[str, ...] = ()


_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def clean_website(value: str | None) -> str | None:
    """A company's website: an http(s) URL (``https://`` is assumed for a bare host name such as
    ``maju.co.id``), or nothing. Other schemes (``javascript:``, ``data:``, ``file:``) would run
    or leak something when a client renders the value as a link, so they are refused."""
    text = clean_text(value)
    if text is None:
        return None
    if not _SCHEME.match(text):
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
        scheme, host = parts.scheme.lower(), parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        scheme, host = "", None
    if (
        host is None
        or scheme not in ("http", "https")
        or any(ch.isspace() or ord(ch) < 32 or ch in "<>\"'`" for ch in text)
    ):
        raise InvalidCustomerData(
            f"website: {value!r} is not an http(s) URL; give one like https://example.com"
        )
    return text


def register_company(
    *,
    name: str,
    website: str | None = None,
    city: str | None = None,
    phone: str | None = None,
    country: str | None = None,
    tier: str | None = None,
    tags: Iterable[str] = (),
) -> CompanyRegistered:
    return _event(
        CompanyRegistered,
        name=_required_name(name, "company"),
        website=clean_website(website),
        city=clean_text(city),
        phone=clean_text(phone),
        country=clean_country(country),
        tier=clean_text(tier),
        tags=clean_tags(tags),
    )


def change_company_profile(
    company: Company, changes: Mapping[CompanyField, str | None]
) -> CompanyProfileChanged | None:
    """Decide a company edit; None when nothing would change. None/blank empties a field."""
    field_changes: list[CompanyFieldChange] = []
    for name, value in changes.items():
        if name not in COMPANY_FIELDS:
            raise InvalidCustomerData(
                f"unknown company field {name!r}; use one of {', '.join(COMPANY_FIELDS)}"
            )
        new: str | None
        if name == "name":
            new = _required_name(value, "company")
        elif name == "website":
            new = clean_website(value)
        elif name == "country":
            new = clean_country(value)
        else:
            new = clean_text(value)
        old: str | None = getattr(company, name)
        if new != old:
            field_changes.append(CompanyFieldChange(field=name, old=old, new=new))
    if not field_changes:
        return None
    return _event(CompanyProfileChanged, changes=tuple(field_changes))


def change_company_tags(company: Company, tags: Iterable[str]) -> CompanyTagsChanged | None:
    """Decide the company's tags becoming exactly ``tags``; None when they already are."""
    diff = tags_diff(company.tags, tags)
    return None if diff is None else CompanyTagsChanged(added=diff[0], removed=diff[1])


def apply_company(
    company: Company | None, company_id: uuid.UUID, event: DomainEvent, occurred_at: datetime
) -> Company:
    if isinstance(event, CompanyRegistered):
        if company is not None:
            raise ValueError(f"company {company_id} registered twice")
        return Company(
            id=company_id,
            version=1,
            name=event.name,
            website=event.website,
            city=event.city,
            phone=event.phone,
            country=event.country,
            tier=event.tier,
            tags=event.tags,
            created_at=occurred_at,
            updated_at=occurred_at,
        )
    if company is None:
        raise ValueError(f"company {company_id}: {type(event).__name__} before registration")
    company = replace(company, version=company.version + 1, updated_at=occurred_at)
    if isinstance(event, CompanyProfileChanged):
        values: dict[str, str | None] = {change.field: change.new for change in event.changes}
        return replace(
            company,
            name=values.get("name") or company.name,  # a company always has a name
            website=values.get("website", company.website),
            city=values.get("city", company.city),
            phone=values.get("phone", company.phone),
            country=values.get("country", company.country),
            tier=values.get("tier", company.tier),
        )
    if isinstance(event, CompanyTagsChanged):
        return replace(company, tags=with_tags_changed(company.tags, event.added, event.removed))
    return company


def replay_company(
    company_id: uuid.UUID, events: Iterable[tuple[DomainEvent, datetime]]
) -> Company:
    company: Company | None = None
    for event, occurred_at in events:
        company = apply_company(company, company_id, event, occurred_at)
    if company is None:
        raise CompanyNotFound(f"no company {company_id}")
    return company
