"""Webhook rules (domain/webhooks.py): retry schedule, outcomes, targets, matching, secrets."""

from __future__ import annotations

import base64
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from helpdesk_conditions import Condition
from notification_service.domain.webhooks import (
    RETRY_SCHEDULE,
    Outcome,
    Subscription,
    SubscriptionError,
    TargetRefused,
    check_event_types,
    check_url,
    delivery_id,
    new_secret,
    outcome_of,
    parse_retry_after,
    refused_address,
    retry_delay,
    wants,
)


def test_the_schedule_is_the_specifications_and_lasts_about_three_days() -> None:
    assert RETRY_SCHEDULE[0] == timedelta(seconds=5)
    assert RETRY_SCHEDULE[-1] == timedelta(hours=24)
    total = sum(RETRY_SCHEDULE, timedelta())
    assert timedelta(days=3) < total < timedelta(days=3, hours=12)


@pytest.mark.parametrize("failed", range(1, len(RETRY_SCHEDULE) + 1))
def test_each_delay_is_jittered_within_twenty_percent(failed: int) -> None:
    base = RETRY_SCHEDULE[failed - 1]
    rng = random.Random(failed)
    delays = {retry_delay(failed, rng=rng) for _ in range(20)}
    assert all(d is not None and base * 0.8 <= d <= base * 1.2 for d in delays)
    assert len(delays) > 1


def test_after_the_last_retry_it_gives_up() -> None:
    assert retry_delay(len(RETRY_SCHEDULE) + 1) is None
    assert retry_delay(0) is None


def test_retry_after_replaces_the_schedule_capped_at_a_day() -> None:
    assert retry_delay(1, retry_after=timedelta(seconds=42)) == timedelta(seconds=42)
    assert retry_delay(1, retry_after=timedelta(days=9)) == timedelta(hours=24)
    assert retry_delay(len(RETRY_SCHEDULE) + 1, retry_after=timedelta(seconds=1)) is None


def test_retry_after_as_seconds_or_http_date() -> None:
    now = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == timedelta(seconds=120)
    assert parse_retry_after("Sun, 06 Dec 2026 10:01:00 GMT", now) == timedelta(minutes=1)
    assert parse_retry_after("Sun, 06 Dec 2026 09:00:00 GMT", now) == timedelta(0)
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        (410, Outcome.DISABLE),
        (404, Outcome.RETRY),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (301, Outcome.RETRY),
        (None, Outcome.RETRY),
    ],
)
def test_outcomes(status: int | None, outcome: Outcome) -> None:
    assert outcome_of(status) is outcome


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("172.16.5.4", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("::ffff:127.0.0.1", "loopback"),
        ("0.0.0.0", "private"),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_refused_addresses(address: str, reason: str | None) -> None:
    assert refused_address(address) == reason


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "example.com/hook", "https://user:pw@example.com/", "http:///x"]
)
def test_refused_urls(url: str) -> None:
    with pytest.raises(TargetRefused):
        check_url(url)


def test_event_types_are_checked() -> None:
    assert check_event_types(["TicketCreated", "SlaBreached", "TicketCreated"]) == (
        "TicketCreated",
        "SlaBreached",
    )
    assert check_event_types(["*"]) == ("*",)
    with pytest.raises(SubscriptionError, match="TicketCreatd"):
        check_event_types(["TicketCreatd"])
    with pytest.raises(SubscriptionError, match="AssignTicket"):
        check_event_types(["AssignTicket"])  # a command, not an event anyone may subscribe to
    with pytest.raises(SubscriptionError):
        check_event_types([])


def test_matching() -> None:
    sub = Subscription(uuid.uuid4(), ("TicketCreated",), Condition.parse('priority == "High"'))
    assert wants(sub, "TicketCreated", {"priority": "High"})
    assert not wants(sub, "TicketCreated", {"priority": "Low"})
    assert not wants(sub, "StatusChanged", {"priority": "High"})
    assert not wants(sub, "TicketCreated", None)  # no ticket: a condition cannot match
    every = Subscription(uuid.uuid4(), ("*",), None)
    assert wants(every, "AgentInvited", None)
    off = Subscription(uuid.uuid4(), ("*",), None, enabled=False)
    assert not wants(off, "AgentInvited", None)


def test_secrets_are_standard_webhooks_secrets() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert new_secret() != secret
    body = b'{"event_id": "x"}'
    now = datetime.now(UTC)
    signature = Webhook(secret).sign("msg_1", now, body)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
    assert Webhook(secret).verify(body, headers) == {"event_id": "x"}


def test_delivery_ids_are_stable_per_event_and_subscription() -> None:
    event, sub = uuid.uuid4(), uuid.uuid4()
    assert delivery_id(event, sub) == delivery_id(event, sub)
    assert delivery_id(event, sub) != delivery_id(event, uuid.uuid4())
