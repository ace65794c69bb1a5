"""The kinds of notification, how each reaches a person by default, and which may be bundled
into a digest.

A person chooses per kind: in the app, by email, both, or not at all; for low-priority kinds
they may also ask for one digest email every so often instead of one email each.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Kind(StrEnum):
    ASSIGNED = "assigned"
    TEAM_ROUTED = "team_routed"
    CUSTOMER_REPLIED = "customer_replied"
    MENTIONED = "mentioned"
    SLA_WARNING = "sla_warning"
    SLA_BREACHED = "sla_breached"
    ESCALATED = "escalated"
    FOLLOWED_STATUS_CHANGED = "followed_status_changed"


class Channel(StrEnum):
    IN_APP = "in_app"
    EMAIL = "email"
    BOTH = "both"
    NONE = "none"

    @property
    def in_app(self) -> bool:
        return self in (Channel.IN_APP, Channel.BOTH)

    @property
    def email(self) -> bool:
        return self in (Channel.EMAIL, Channel.BOTH)


#: Kinds that may be bundled in a digest: nothing in them needs an answer within the hour.
LOW_PRIORITY: frozenset[Kind] = frozenset({Kind.TEAM_ROUTED, Kind.FOLLOWED_STATUS_CHANGED})

#: How each kind reaches a person who chose nothing: what needs them now also comes by email.
DEFAULT_CHANNEL: dict[Kind, Channel] = {
    Kind.ASSIGNED: Channel.BOTH,
    Kind.TEAM_ROUTED: Channel.IN_APP,
    Kind.CUSTOMER_REPLIED: Channel.BOTH,
    Kind.MENTIONED: Channel.BOTH,
    Kind.SLA_WARNING: Channel.BOTH,
    Kind.SLA_BREACHED: Channel.BOTH,
    Kind.ESCALATED: Channel.BOTH,
    Kind.FOLLOWED_STATUS_CHANGED: Channel.IN_APP,
}


class Preference(BaseModel):
    """One person's choice for one kind."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: Channel
    digest: bool = False


def default_preference(kind: Kind) -> Preference:
    return Preference(channel=DEFAULT_CHANNEL[kind])


class PreferenceError(ValueError):
    """A preference that cannot be kept (a digest for a kind that needs attention now)."""


def check_preference(kind: Kind, preference: Preference) -> Preference:
    if preference.digest and kind not in LOW_PRIORITY:
        allowed = ", ".join(sorted(LOW_PRIORITY))
        raise PreferenceError(f"a digest is only offered for low-priority kinds ({allowed})")
    if preference.digest and not preference.channel.email:
        raise PreferenceError("a digest is an email: choose channel 'email' or 'both'")
    return preference


def effective(kind: Kind, chosen: Preference | None) -> Preference:
    return chosen if chosen is not None else default_preference(kind)
