"""An agent's answer to a notification mail (issue #14), decided without servers: only an active
agent's person-written mail with a validly signed reference counts, and it names the ticket and
whether the answer is a public reply or an internal note."""

from __future__ import annotations

import uuid
from email.message import EmailMessage

from helpdesk_platform.mail_reply import ReplyKind, make_reference
from mail_gateway.domain.loops import Kind, classify
from mail_gateway.domain.notification_replies import notification_answer
from mail_gateway.domain.parsing import ParsedMail, parse

KEY = b"g" * 32
OLD_KEY = b"h" * 32
TICKET = uuid.uuid4()
DOMAIN = "notifications.helpdesk.local"


def reference(kind: ReplyKind, key: bytes = KEY, ticket: uuid.UUID = TICKET) -> str:
    return make_reference(key, ticket, kind, uuid.uuid4(), DOMAIN)


def answer(in_reply_to: str | None, references: str = "", **headers: str) -> ParsedMail:
    message = EmailMessage()
    message["From"] = "Sari <sari@helpdesk.example>"
    message["To"] = "support@helpdesk.local"
    message["Subject"] = "Re: [#12] Budi replied on #12 Printer"
    message["Message-ID"] = f"<{uuid.uuid4().hex}@mail.helpdesk.example>"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("On it.\n\n> Budi wrote: the printer is on fire")
    return parse(bytes(message))


def decide(mail: ParsedMail, *, agent: bool = True, keys: tuple[bytes, ...] = (KEY,)) -> object:
    automated = classify(mail, "helpdesk.local")[0] is Kind.AUTO_REPLY
    return notification_answer(mail, from_active_agent=agent, automated=automated, keys=keys)


def test_an_agent_answering_a_customer_reply_notification_writes_a_public_reply() -> None:
    found = notification_answer(
        answer(reference(ReplyKind.PUBLIC)), from_active_agent=True, automated=False, keys=[KEY]
    )
    assert found is not None
    assert (found.ticket_id, found.kind) == (TICKET, ReplyKind.PUBLIC)


def test_an_answer_to_a_mention_is_an_internal_note() -> None:
    found = notification_answer(
        answer(reference(ReplyKind.INTERNAL)), from_active_agent=True, automated=False, keys=[KEY]
    )
    assert found is not None and found.kind is ReplyKind.INTERNAL


def test_the_reference_may_be_further_up_the_references() -> None:
    # The agent answers their own earlier answer: the notification is in References.
    mail = answer("<earlier@mail.helpdesk.example>", reference(ReplyKind.PUBLIC))
    assert decide(mail) is not None


def test_anyone_else_quoting_a_valid_reference_gets_nothing() -> None:
    assert decide(answer(reference(ReplyKind.PUBLIC)), agent=False) is None


def test_a_forged_or_foreign_reference_is_ignored() -> None:
    assert decide(answer(reference(ReplyKind.PUBLIC, key=b"x" * 32))) is None
    made = reference(ReplyKind.INTERNAL)
    assert decide(answer(made.replace(".internal.", ".public."))) is None
    assert decide(answer(f"<{uuid.uuid4()}@{DOMAIN}>")) is None  # a plain notification id


def test_an_old_key_counts_only_while_it_is_configured_as_the_previous_one() -> None:
    signed_before = answer(reference(ReplyKind.PUBLIC, key=OLD_KEY))
    assert decide(signed_before) is None
    assert decide(signed_before, keys=(KEY, OLD_KEY)) is not None


def test_without_keys_nothing_is_a_notification_answer() -> None:
    assert decide(answer(reference(ReplyKind.PUBLIC)), keys=()) is None


def test_an_agents_out_of_office_stays_machine_mail() -> None:
    mail = answer(reference(ReplyKind.PUBLIC), Auto_Submitted="auto-replied")
    assert decide(mail) is None
