"""Which ticket a mail answers, in the issue's order and with nothing fuzzy:

1. ``In-Reply-To``, then ``References`` newest first, against the Message-IDs the helpdesk sent
   or received for a ticket;
2. otherwise the subject token ``[#<number>]``.

A match counts only when the sender is the ticket's customer, a participant of its thread or an
agent; otherwise the mail opens a new ticket (no hijack by quoting a number, Zammad #5064).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from mail_gateway.domain.parsing import ParsedMail

SUBJECT_TOKEN = re.compile(r"\[#(\d{1,12})\]")


@dataclass(frozen=True)
class TicketThread:
    """What the gateway knows of a ticket to thread mail into it and reply to it."""

    ticket_id: uuid.UUID
    number: int | None
    subject: str
    customer_email: str | None
    participants: frozenset[str] = frozenset()
    account_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    references: tuple[str, ...] = ()


def reference_chain(mail: ParsedMail) -> list[str]:
    """Message-IDs to look up, in order: In-Reply-To, then References newest first."""
    chain = [mail.in_reply_to] if mail.in_reply_to else []
    chain.extend(reversed(mail.references))
    return list(dict.fromkeys(chain))


def subject_number(subject: str) -> int | None:
    found = SUBJECT_TOKEN.search(subject)
    return int(found.group(1)) if found else None


def may_join(thread: TicketThread, sender: str, agents: frozenset[str] = frozenset()) -> bool:
    sender = sender.lower()
    return (
        sender == (thread.customer_email or "").lower()
        or sender in thread.participants
        or sender in agents
    )


def participants_of(mail: ParsedMail, own_addresses: frozenset[str]) -> tuple[str, ...]:
    """To and CC besides the support addresses and the sender: the thread's participants."""
    others = (a for a in (*mail.to, *mail.cc) if a not in own_addresses and a != mail.from_address)
    return tuple(dict.fromkeys(others))


def copy_to(thread: TicketThread, leave_out: Iterable[str]) -> tuple[str, ...]:
    """Who gets a copy (CC) of a mail to the thread's customer: its participants, less
    ``leave_out`` (the support addresses, bouncing addresses, the reply's author - an agent
    never gets their own reply back) and the customer, who is the mail's addressee."""
    left_out = {a.lower() for a in leave_out} | {(thread.customer_email or "").lower()}
    return tuple(sorted(p for p in thread.participants if p.lower() not in left_out))


def reply_subject(number: int | None, subject: str) -> str:
    """``Re: [#1042] Cannot log in``: every outgoing subject carries the ticket's token."""
    bare = SUBJECT_TOKEN.sub("", subject).strip()
    while bare.lower().startswith(("re:", "aw:", "fwd:", "fw:")):
        bare = bare.split(":", 1)[1].strip()
    token = f"[#{number}] " if number is not None else ""
    return f"Re: {token}{bare}".rstrip()
