"""Directory events: agents, teams and the helpdesk's ticket options.

Topic ``helpdesk.directory.v1`` (key = agent, team or configuration id). The assignment service
and permission checks build their view of who is in which team from these.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from helpdesk_events.registry import DomainEvent, event_type
from helpdesk_events.tickets import StatusCategory

AGENT = "agent"
TEAM = "team"
CONFIG = "config"


class AgentRole(StrEnum):
    AGENT = "agent"
    TECHNICIAN = "technician"
    MANAGER = "manager"


class Availability(StrEnum):
    """Whether an agent takes new tickets: Active first, Away if needed, Unavailable never."""

    ACTIVE = "active"
    AWAY = "away"
    UNAVAILABLE = "unavailable"


@event_type("AgentInvited", version=1, stream_type=AGENT)
class AgentInvited(DomainEvent):
    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    role: AgentRole


@event_type("AgentRoleChanged", version=1, stream_type=AGENT)
class AgentRoleChanged(DomainEvent):
    from_role: AgentRole
    to_role: AgentRole


@event_type("AgentDeactivated", version=1, stream_type=AGENT)
class AgentDeactivated(DomainEvent):
    """The agent can no longer sign in or be assigned tickets."""


@event_type("AgentReactivated", version=1, stream_type=AGENT)
class AgentReactivated(DomainEvent):
    pass


@event_type("AgentAvailabilityChanged", version=1, stream_type=AGENT)
class AgentAvailabilityChanged(DomainEvent):
    from_availability: Availability
    to_availability: Availability


@event_type("TeamCreated", version=1, stream_type=TEAM)
class TeamCreated(DomainEvent):
    """A team (group). ``tier`` and ``escalates_to`` chain tiered teams (L1 → L2 → L3)."""

    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    lead_id: uuid.UUID | None = None
    tier: int | None = Field(default=None, ge=1, le=9)
    escalates_to: uuid.UUID | None = None
    time_zone: str | None = Field(
        default=None, max_length=100, description="IANA, e.g. Asia/Jakarta"
    )
    languages: tuple[str, ...] = Field(default=(), description="ISO 639-1 codes, e.g. id, en")
    business_calendar_id: str | None = Field(
        default=None, max_length=100, description="the SLA service's business calendar"
    )


@event_type("TeamDetailsChanged", version=1, stream_type=TEAM)
class TeamDetailsChanged(DomainEvent):
    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    tier: int | None = Field(default=None, ge=1, le=9)
    escalates_to: uuid.UUID | None = None


@event_type("TeamRegionChanged", version=1, stream_type=TEAM)
class TeamRegionChanged(DomainEvent):
    """Where and when a (regional) team works: its time zone, the languages it answers in and
    the business calendar it keeps; the whole region, not a diff (None / empty: not set)."""

    time_zone: str | None = Field(
        default=None, max_length=100, description="IANA, e.g. Asia/Jakarta"
    )
    languages: tuple[str, ...] = Field(default=(), description="ISO 639-1 codes, e.g. id, en")
    business_calendar_id: str | None = Field(default=None, max_length=100)


@event_type("TeamMemberAdded", version=1, stream_type=TEAM)
class TeamMemberAdded(DomainEvent):
    agent_id: uuid.UUID


@event_type("TeamMemberRemoved", version=1, stream_type=TEAM)
class TeamMemberRemoved(DomainEvent):
    agent_id: uuid.UUID


@event_type("TeamLeadChanged", version=1, stream_type=TEAM)
class TeamLeadChanged(DomainEvent):
    lead_id: uuid.UUID | None


class StatusOption(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(min_length=1, max_length=50)
    category: StatusCategory


class BusinessUnitOption(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    brands: tuple[str, ...] = ()


#: The one stream of ``TicketOptionsConfigured`` (the ticket service writes it; others read it).
TICKET_OPTIONS_STREAM_ID = uuid.UUID("00000000-0000-4000-8000-00000000c0f1")


@event_type("TicketOptionsConfigured", version=1, stream_type=CONFIG)
class TicketOptionsConfigured(DomainEvent):
    """The admin-configurable lists, replaced as a whole. Priorities are ordered low to high."""

    priorities: tuple[str, ...] = Field(min_length=1)
    statuses: tuple[StatusOption, ...] = Field(min_length=1)
    types: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    business_units: tuple[BusinessUnitOption, ...] = ()


class CustomFieldKind(StrEnum):
    """What a custom ticket field holds (its values on tickets: see ``CustomFieldValue``)."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"  # ISO 8601 date text, e.g. "2026-12-31"
    SELECT = "select"  # one of ``options``
    MULTI_SELECT = "multi_select"  # several of ``options``, a list of text
    CHECKBOX = "checkbox"  # true / false
    USER = "user"  # an agent's id, as text


class CustomFieldForm(StrEnum):
    """Where a custom field is shown: the agent portal's ticket form, the customer portal's."""

    AGENT = "agent"
    PORTAL = "portal"


class CustomFieldDefinition(BaseModel):
    """A custom ticket field as a manager defined it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,62}$", description="as in conditions: custom.<key>"
    )
    label: str = Field(min_length=1, max_length=100)
    kind: CustomFieldKind
    options: tuple[str, ...] = Field(default=(), description="the choices of select fields")
    required: bool = Field(default=False, description="must be given on the forms it is on")
    forms: tuple[CustomFieldForm, ...] = (CustomFieldForm.AGENT,)
    customer_settable: bool = Field(
        default=False, description="customers may set it on the portal form"
    )


@event_type("CustomFieldsConfigured", version=1, stream_type=CONFIG)
class CustomFieldsConfigured(DomainEvent):
    """The custom ticket fields, replaced as a whole (in the order forms show them)."""

    fields: tuple[CustomFieldDefinition, ...] = ()


class BrandImage(BaseModel):
    """A logo or favicon in the ticket service's file store (served at ``/branding/…``)."""

    attachment_id: uuid.UUID
    content_type: str = Field(pattern=r"^image/(png|jpeg|gif|webp|x-icon)$")
    size_bytes: int = Field(ge=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


@event_type("BrandingConfigured", version=1, stream_type=CONFIG)
class BrandingConfigured(DomainEvent):
    """The helpdesk's branding, replaced as a whole: shown in both portals, on the sign-in
    pages and in outgoing email."""

    helpdesk_name: str = Field(min_length=1, max_length=100)
    accent_color: str = Field(pattern=r"^#[0-9a-f]{6}$", description="#rrggbb, lower case")
    logo: BrandImage | None = None
    favicon: BrandImage | None = None
