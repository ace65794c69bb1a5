"""Customer and company events (topic ``helpdesk.customers.v1``, key = customer or company id)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from helpdesk_events.registry import DomainEvent, event_type

CUSTOMER = "customer"
COMPANY = "company"

CustomerField = Literal[
    "name",
    "email",
    "phone",
    "gender",
    "channel",
    "ip_address",
    "job_title",
    "role",
    "company_id",
    "country",
    "language",
]
CompanyField = Literal["name", "website", "city", "phone", "country", "tier"]

#: ISO 3166-1 alpha-2 ("ID", "IN", "SG"), so conditions compare one spelling.
COUNTRY_PATTERN = r"^[A-Z]{2}$"
#: ISO 639-1 ("id", "en", "hi"), the spelling teams' languages use.
LANGUAGE_PATTERN = r"^[a-z]{2}$"


class CustomerFieldChange(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    field: CustomerField
    old: str | None
    new: str | None


class CompanyFieldChange(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    field: CompanyField
    old: str | None
    new: str | None


@event_type("CustomerRegistered", version=1, stream_type=CUSTOMER)
class CustomerRegistered(DomainEvent):
    """A contact: a person who asks for help. Contacts are unique by email."""

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=50)
    tags: tuple[str, ...] = ()
    gender: str | None = Field(default=None, max_length=50)
    channel: str | None = Field(default=None, max_length=50, description="where they came from")
    ip_address: str | None = Field(default=None, max_length=45)
    company_id: uuid.UUID | None = None
    job_title: str | None = Field(default=None, max_length=200)
    role: str | None = Field(default=None, max_length=200, description="role at the company")
    country: str | None = Field(default=None, pattern=COUNTRY_PATTERN, description="ISO 3166-1")
    language: str | None = Field(
        default=None,
        pattern=LANGUAGE_PATTERN,
        description="ISO 639-1: the language they write in (routing to a team that speaks it)",
    )


@event_type("CustomerProfileChanged", version=1, stream_type=CUSTOMER)
class CustomerProfileChanged(DomainEvent):
    changes: tuple[CustomerFieldChange, ...] = Field(min_length=1)


@event_type("CustomerTagsChanged", version=1, stream_type=CUSTOMER)
class CustomerTagsChanged(DomainEvent):
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@event_type("CompanyRegistered", version=1, stream_type=COMPANY)
class CompanyRegistered(DomainEvent):
    name: str = Field(min_length=1, max_length=200)
    website: str | None = Field(default=None, max_length=500)
    city: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=50)
    country: str | None = Field(default=None, pattern=COUNTRY_PATTERN, description="ISO 3166-1")
    tier: str | None = Field(
        default=None, max_length=100, description='a service tier, e.g. "Enterprise"'
    )
    tags: tuple[str, ...] = ()


@event_type("CompanyProfileChanged", version=1, stream_type=COMPANY)
class CompanyProfileChanged(DomainEvent):
    changes: tuple[CompanyFieldChange, ...] = Field(min_length=1)


@event_type("CompanyTagsChanged", version=1, stream_type=COMPANY)
class CompanyTagsChanged(DomainEvent):
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@event_type("CompanyPortalVisibilityChanged", version=1, stream_type=COMPANY)
class CompanyPortalVisibilityChanged(DomainEvent):
    """A manager let the company's customers see every ticket of the company in the portal
    (``customers_see_company_tickets``), or took it back."""

    customers_see_company_tickets: bool
