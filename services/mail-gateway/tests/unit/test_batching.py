"""Which mails of an inbox batch go together (domain.batching): rounds keep each sender's order,
only customers' plain mail is batched, and the thread rules are those of a mail alone."""

from __future__ import annotations

import uuid

from mail_gateway.domain.batching import batchable, chosen_thread, first_answered, in_rounds
from mail_gateway.domain.loops import Kind
from mail_gateway.domain.parsing import Attachment, ParsedMail
from mail_gateway.domain.threading import TicketThread


def mail(sender: str = "budi@customer.example", **extra: object) -> ParsedMail:
    fields: dict[str, object] = {
        "message_id": f"<{uuid.uuid4().hex}@customer.example>", "from_address": sender,
        "from_name": None, "to": ("support@helpdesk.local",), "cc": (), "subject": "Hello",
        "in_reply_to": None, "references": (), "headers": {}, "text": "Hi", "html": None,
    }  # fmt: skip
    fields.update(extra)
    return ParsedMail(**fields)  # type: ignore[arg-type]


def test_a_round_holds_each_senders_next_mail_in_the_order_given() -> None:
    mails = [("a", 1), ("B", 2), ("b", 3), ("c", 4), ("a", 5), ("A", 6)]
    rounds = in_rounds(mails, lambda m: m[0])
    assert rounds == [[("a", 1), ("B", 2), ("c", 4)], [("b", 3), ("a", 5)], [("A", 6)]]
    assert in_rounds([], lambda m: str(m)) == []


def test_only_a_customers_plain_human_mail_is_batched() -> None:
    assert batchable(mail(), Kind.HUMAN, from_agent=False)
    assert not batchable(mail(), Kind.HUMAN, from_agent=True)
    for kind in (Kind.AUTO_REPLY, Kind.BULK, Kind.LOOP, Kind.BOUNCE):
        assert not batchable(mail(), kind, from_agent=False)
    with_file = mail(attachments=(Attachment("a.pdf", "application/pdf", b"%PDF"),))
    assert not batchable(with_file, Kind.HUMAN, from_agent=False)


def thread(number: int, customer: str, participants: frozenset[str] = frozenset()) -> TicketThread:
    return TicketThread(uuid.uuid4(), number, "Subject", customer, participants)


def test_the_answered_ticket_wins_then_a_joinable_subject_token() -> None:
    answered = thread(1, "other@customer.example")
    others = [thread(7, "x@elsewhere.example"), thread(7, "budi@customer.example")]
    sender = "budi@customer.example"
    assert chosen_thread(answered, others, sender, sender_failed=False) is answered
    assert chosen_thread(None, others, sender, sender_failed=False) is others[1]
    # Nobody's ticket to join: the first (the ticket service then refuses the stranger: 404).
    assert chosen_thread(None, others[:1], sender, sender_failed=False) is others[0]
    # A sender the inbox's server could not authenticate never joins by subject token.
    assert chosen_thread(None, others, sender, sender_failed=True) is None
    assert chosen_thread(None, [], sender, sender_failed=False) is None


def test_the_first_known_message_id_of_the_chain_names_the_ticket() -> None:
    known_ticket, bare_ticket = uuid.uuid4(), uuid.uuid4()
    projected = TicketThread(known_ticket, 3, "Printer", "budi@customer.example")
    ids = {"<b@x>": known_ticket, "<c@x>": bare_ticket}
    threads = {known_ticket: projected}
    assert first_answered(["<a@x>", "<b@x>", "<c@x>"], ids, threads) is projected
    bare = first_answered(["<c@x>", "<b@x>"], ids, threads)
    assert bare == TicketThread(bare_ticket, None, "", None)
    assert first_answered(["<a@x>"], ids, threads) is None
