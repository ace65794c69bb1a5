"""Webhook rules: which subscriptions an event goes to, when a failed delivery is tried again,
which targets are refused, and how secrets look (the Standard Webhooks specification).

Retries follow the specification's example schedule — immediately, then after 5 s, 5 min,
30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h (about 3 days in all) — each delay with ±20 %
jitter so that a receiver coming back is not hit by every sender at once. A ``Retry-After`` the
receiver sent replaces the scheduled delay (capped at a day). ``410 Gone`` disables the
subscription; any other non-2xx, a timeout or a refused connection is a failure to retry.
"""

from __future__ import annotations

import base64
import ipaddress
import random
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from helpdesk_conditions import Condition
from helpdesk_events import registered_events

DELIVERY_NAMESPACE = uuid.UUID("7a3d2c9b-5e11-4f0a-b6c8-1d2e3f405162")

#: Delays before the 2nd, 3rd, … attempt (the spec's example schedule).
RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
JITTER = 0.2
MAX_RETRY_AFTER = timedelta(hours=24)
SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix the specification gives secrets
#: Stream types whose events a subscription may ask for.
SUBSCRIBABLE_STREAMS = frozenset({"ticket", "sla", "agent", "team", "config"})
ANY_EVENT = "*"


def subscribable_event_types() -> frozenset[str]:
    return frozenset(
        name for name, cls in registered_events().items() if cls.stream_type in SUBSCRIBABLE_STREAMS
    )


class SubscriptionError(ValueError):
    """A subscription that cannot be kept; the message says why."""


def check_event_types(event_types: Iterable[str]) -> tuple[str, ...]:
    wanted = tuple(dict.fromkeys(event_types))
    if not wanted:
        raise SubscriptionError("name at least one event type (or '*' for every event)")
    known = subscribable_event_types()
    unknown = [t for t in wanted if t != ANY_EVENT and t not in known]
    if unknown:
        raise SubscriptionError(
            f"unknown event type(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return wanted


def delivery_id(event_id: uuid.UUID, subscription_id: uuid.UUID) -> uuid.UUID:
    """The ``webhook-id``: the same for every attempt of one event to one subscription."""
    return uuid.uuid5(DELIVERY_NAMESPACE, f"{event_id}/{subscription_id}")


def new_secret() -> str:
    """``whsec_`` and 32 random bytes in base64, as the specification suggests (24-64 bytes)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class Subscription:
    id: uuid.UUID
    event_types: tuple[str, ...]
    condition: Condition | None
    enabled: bool = True


def wants(subscription: Subscription, event_type: str, ticket: Mapping[str, Any] | None) -> bool:
    """Whether ``subscription`` gets an event of ``event_type`` about ``ticket`` (its fields as
    conditions read them; None for an event that is about no ticket). A subscription with a
    condition only gets events about a ticket that matches it."""
    if not subscription.enabled:
        return False
    if ANY_EVENT not in subscription.event_types and event_type not in subscription.event_types:
        return False
    if subscription.condition is None:
        return True
    return ticket is not None and subscription.condition.matches(ticket)


def retry_delay(
    failed_attempts: int, *, retry_after: timedelta | None = None, rng: random.Random | None = None
) -> timedelta | None:
    """How long to wait after the ``failed_attempts``-th failure; None: give up."""
    if failed_attempts < 1 or failed_attempts > len(RETRY_SCHEDULE):
        return None
    if retry_after is not None and retry_after >= timedelta(0):
        return min(retry_after, MAX_RETRY_AFTER)
    base = RETRY_SCHEDULE[failed_attempts - 1]
    factor = 1 + (rng or random).uniform(-JITTER, JITTER)
    return base * factor


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """``Retry-After`` as seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    GIVE_UP = "failed"
    DISABLE = "disable"


def outcome_of(status_code: int | None) -> Outcome:
    """What a response (None: no response at all) means for the delivery."""
    if status_code is not None and 200 <= status_code < 300:
        return Outcome.DELIVERED
    if status_code == 410:
        return Outcome.DISABLE
    return Outcome.RETRY


class TargetRefused(ValueError):
    """A webhook URL the service will not call."""


def check_url(url: str) -> str:
    """An absolute http(s) URL with a host and no credentials in it."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("a webhook URL must start with https:// (or http://)")
    if not parts.hostname:
        raise TargetRefused("a webhook URL needs a host")
    if parts.username or parts.password:
        raise TargetRefused("put no credentials in a webhook URL; verify the signature instead")
    return url


def refused_address(address: str) -> str | None:
    """Why an IP address may not be called without ``HELPDESK_WEBHOOKS_ALLOW_PRIVATE``."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_private:
        return "private"
    if ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return "reserved"
    return None
