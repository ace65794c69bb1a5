"""Which mails of an inbox batch go to the ticket service together, and in which order.

A burst is bound by the work per mail (an HTTP request, a token, several statements each): the
common case - a customer's new ticket or message, plain mail without files - goes for a whole
batch in one request (``POST /mail/tickets/batch``) and a few statements. Everything rarer
(agents' mail, machine mail, bounces, attachments to upload, a quoted reply whose original is
kept) goes one by one as before.

One sender's mails must land in order (the second may answer the first's ticket), so a batch is
cut in rounds: round *k* holds each sender's *k*-th mail, and a round ends before the next starts.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from mail_gateway.domain.loops import Kind
from mail_gateway.domain.parsing import ParsedMail
from mail_gateway.domain.threading import TicketThread, may_join

T = TypeVar("T")


def in_rounds(items: Iterable[T], sender: Callable[[T], str]) -> list[list[T]]:
    """Round *k*: the *k*-th item of each sender (case-insensitive), in the order given."""
    rounds: list[list[T]] = []
    seen: dict[str, int] = {}
    for item in items:
        key = sender(item).lower()
        index = seen.get(key, 0)
        seen[key] = index + 1
        if index == len(rounds):
            rounds.append([])
        rounds[index].append(item)
    return rounds


def batchable(mail: ParsedMail, kind: Kind, *, from_agent: bool) -> bool:
    """A customer's plain mail: no agent (whose mail may be a reply with an agent's rights), no
    machine mail (ignored, bounced or kept as a note), nothing to upload first."""
    return kind is Kind.HUMAN and not from_agent and not mail.attachments


def chosen_thread(
    answered: TicketThread | None,
    by_number: Sequence[TicketThread],
    sender: str,
    *,
    sender_failed: bool,
) -> TicketThread | None:
    """The ticket a mail threads into: the one it answers (In-Reply-To / References), else one
    its subject token names - not for a sender the inbox's server could not authenticate (a
    forged customer address), and one the sender may join first."""
    if answered is not None or sender_failed or not by_number:
        return answered
    joinable = [t for t in by_number if may_join(t, sender)]
    return (joinable or list(by_number))[0]


def first_answered(
    chain: Sequence[str],
    tickets_by_message_id: dict[str, uuid.UUID],
    threads: dict[uuid.UUID, TicketThread],
) -> TicketThread | None:
    """The ticket of the first Message-ID of ``chain`` the helpdesk knows (a bare one when the
    ticket itself is not projected yet)."""
    for message_id in chain:
        ticket_id = tickets_by_message_id.get(message_id)
        if ticket_id is not None:
            return threads.get(ticket_id) or TicketThread(ticket_id, None, "", None)
    return None
