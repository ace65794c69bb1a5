"""Who else is on a ticket right now: the collision warning's rule (pure, no I/O).

Each open ticket page sends a heartbeat (about every 10 s, and at once when the agent starts or
stops writing in the reply box) saying *viewing* or *replying*; a page that stops sending — a
closed laptop, a dropped network — is forgotten :data:`TTL` after its last heartbeat, so the
warning never outlives the agent by much. One agent may have the ticket open in several tabs
(sessions): they count once, as *replying* when any of their tabs is replying. An agent never
sees themself.

Presence is ephemeral state, not a ticket event: it says nothing about the ticket (who looked
at it is not part of its history, and the event log would grow by one event per agent every
10 s); it is worthless after half a minute, so it is kept in an UNLOGGED table that a crash may
empty, never on Kafka.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

#: How long a heartbeat keeps a page present.
TTL = timedelta(seconds=30)
#: How often a page should send one (the TTL leaves room for two lost heartbeats).
HEARTBEAT_EVERY = timedelta(seconds=10)


class Activity(enum.StrEnum):
    VIEWING = "viewing"
    REPLYING = "replying"


@dataclass(frozen=True)
class Heartbeat:
    """The last heartbeat of one page (session) of one agent on one ticket."""

    agent_id: str
    session_id: str
    activity: Activity
    seen_at: datetime
    #: The session's first heartbeat on the ticket (kept by later ones).
    since: datetime
    name: str | None = None


@dataclass(frozen=True)
class Presence:
    """One other agent on the ticket, as the viewer is shown them."""

    agent_id: str
    name: str | None
    activity: Activity
    since: datetime


def alive(heartbeat: Heartbeat, now: datetime) -> bool:
    return now - heartbeat.seen_at < TTL


def shows_others_something_new(
    previous: Heartbeat | None, activity: Activity, now: datetime
) -> bool:
    """Whether a heartbeat changes what the others see (a page that appears or reappears, or
    starts or stops replying) rather than only keeping it alive."""
    return previous is None or not alive(previous, now) or previous.activity is not activity


def others(heartbeats: Iterable[Heartbeat], viewer: str, now: datetime) -> list[Presence]:
    """The agents other than ``viewer`` still present at ``now``, one entry each, sorted by
    name: a stable order and no heartbeat times, so a list that a heartbeat only renewed is
    equal to the one before (the stream sends nothing then)."""
    by_agent: dict[str, Presence] = {}
    for beat in heartbeats:
        if beat.agent_id == viewer or not alive(beat, now):
            continue
        known = by_agent.get(beat.agent_id)
        if known is None:
            by_agent[beat.agent_id] = Presence(beat.agent_id, beat.name, beat.activity, beat.since)
            continue
        replying = Activity.REPLYING in (known.activity, beat.activity)
        by_agent[beat.agent_id] = Presence(
            beat.agent_id,
            known.name or beat.name,
            Activity.REPLYING if replying else Activity.VIEWING,
            min(known.since, beat.since),
        )
    return sorted(by_agent.values(), key=lambda p: ((p.name or "").casefold(), p.agent_id))


def next_expiry(heartbeats: Iterable[Heartbeat], viewer: str, now: datetime) -> datetime | None:
    """When the first of the others' live heartbeats runs out (the list changes then even if
    nobody sends anything), or None."""
    ends = [b.seen_at + TTL for b in heartbeats if b.agent_id != viewer and alive(b, now)]
    return min(ends, default=None)
