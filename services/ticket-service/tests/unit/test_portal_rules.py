"""Pure rules of issue #18: ratings once per resolution, the customer's "resolved", branding."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from helpdesk_events import DomainEvent, StatusCategory
from helpdesk_events.directory import BrandImage
from helpdesk_events.tickets import RatingScale
from ticket_service.domain import ticket as tickets
from ticket_service.domain.branding import (
    Branding,
    InvalidImage,
    check_image_size,
    configure,
    sniff_image,
)
from ticket_service.domain.errors import DomainError, InvalidTransition
from ticket_service.domain.satisfaction import (
    AlreadyRated,
    rate,
    resolve_by_customer,
    satisfaction_of,
)
from ticket_service.domain.ticket import NewTicket, Ticket

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
TEAM = uuid.uuid4()


def opened() -> tuple[Ticket, list[DomainEvent]]:
    created = tickets.create(NewTicket(subject="Printer", team_id=TEAM))
    return tickets.apply(None, uuid.uuid4(), created, T0), [created]


def step(ticket: Ticket, history: list[DomainEvent], event: DomainEvent) -> Ticket:
    history.append(event)
    return tickets.apply(ticket, ticket.id, event, T0)


def test_a_ticket_is_rated_once_per_resolution() -> None:
    ticket, history = opened()
    with pytest.raises(InvalidTransition, match="once it is solved"):
        rate(ticket, satisfaction_of(history), scale=RatingScale.GOOD_BAD, score=1)
    ticket = step(ticket, history, resolve_by_customer(ticket))
    assert ticket.status == "Solved" and ticket.status_category is StatusCategory.RESOLVED
    first = rate(ticket, satisfaction_of(history), scale=RatingScale.GOOD_BAD, score=1)
    assert (first.resolution, first.satisfied, first.team_id) == (1, True, TEAM)
    ticket = step(ticket, history, first)
    with pytest.raises(AlreadyRated):
        rate(ticket, satisfaction_of(history), scale=RatingScale.ONE_TO_FIVE, score=5)
    ticket = step(ticket, history, tickets.change_status(ticket, "Open"))
    ticket = step(ticket, history, tickets.change_status(ticket, "Solved"))
    second = rate(
        ticket, satisfaction_of(history), scale=RatingScale.ONE_TO_FIVE, score=3, comment="  "
    )
    assert (second.resolution, second.satisfied, second.comment) == (2, False, None)


@pytest.mark.parametrize(
    ("scale", "score", "satisfied"),
    [
        (RatingScale.GOOD_BAD, 0, False),
        (RatingScale.GOOD_BAD, 1, True),
        (RatingScale.ONE_TO_FIVE, 3, False),
        (RatingScale.ONE_TO_FIVE, 4, True),
        (RatingScale.ONE_TO_FIVE, 5, True),
    ],
)
def test_csat_reads_good_or_four_and_five_stars_as_satisfied(
    scale: RatingScale, score: int, satisfied: bool
) -> None:
    ticket, history = opened()
    ticket = step(ticket, history, resolve_by_customer(ticket))
    assert rate(ticket, satisfaction_of(history), scale=scale, score=score).satisfied is satisfied


@pytest.mark.parametrize(
    ("scale", "score"), [(RatingScale.GOOD_BAD, 2), (RatingScale.ONE_TO_FIVE, 0)]
)
def test_a_score_outside_its_scale_is_refused(scale: RatingScale, score: int) -> None:
    ticket, history = opened()
    ticket = step(ticket, history, resolve_by_customer(ticket))
    with pytest.raises(InvalidTransition, match="rating is one of"):
        rate(ticket, satisfaction_of(history), scale=scale, score=score)


def test_a_solved_or_closed_ticket_cannot_be_resolved_again() -> None:
    ticket, history = opened()
    ticket = step(ticket, history, resolve_by_customer(ticket))
    with pytest.raises(InvalidTransition, match="already"):
        resolve_by_customer(ticket)
    ticket = step(ticket, history, tickets.change_status(ticket, "Closed"))
    with pytest.raises(DomainError):
        resolve_by_customer(ticket)


@pytest.mark.parametrize(
    ("head", "media_type"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"\x00\x00\x01\x00\x01\x00", "image/x-icon"),
    ],
)
def test_images_are_recognised_by_their_bytes(head: bytes, media_type: str) -> None:
    assert sniff_image(head) == media_type


@pytest.mark.parametrize("head", [b"<svg xmlns=", b"<?xml version", b"%PDF-1.7", b""])
def test_svg_and_other_files_are_refused(head: bytes) -> None:
    with pytest.raises(InvalidImage, match="SVG is not accepted"):
        sniff_image(head)


def test_image_sizes_are_limited_per_kind() -> None:
    check_image_size("favicon", 100 * 1024)
    with pytest.raises(InvalidImage, match="100 KB"):
        check_image_size("favicon", 100 * 1024 + 1)
    check_image_size("logo", 512 * 1024)


def test_branding_changes_only_what_is_given_and_normalises_the_colour() -> None:
    logo = BrandImage(
        attachment_id=uuid.uuid4(), content_type="image/png", size_bytes=10, sha256="a" * 64
    )
    current = Branding(helpdesk_name="Helpdesk", logo=logo)
    changed = configure(current, accent_color="#AB12CD")
    assert (changed.helpdesk_name, changed.accent_color, changed.logo) == (
        "Helpdesk",
        "#ab12cd",
        logo,
    )
    assert configure(current, remove=("logo",)).logo is None
    assert configure(current, helpdesk_name="  Bantuan ").helpdesk_name == "Bantuan"
    with pytest.raises(InvalidTransition, match="#rrggbb"):
        configure(current, accent_color="blue")
    with pytest.raises(InvalidTransition, match="1 to 100"):
        configure(current, helpdesk_name="   ")
