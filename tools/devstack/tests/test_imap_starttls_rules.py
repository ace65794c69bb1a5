"""The IMAP STARTTLS front's rules before TLS: what it adds to GreenMail's capabilities and how it
answers each command. They decide whether a client under test could log in in plain text, so
they are checked here line by line; the front's sessions run in ``tests/integration/
test_mail_tls.py`` between the mail gateway and GreenMail."""

from __future__ import annotations

import pytest

from helpdesk_devstack.imap_starttls import (
    INJECTED_AFTER_OK,
    Misbehaviour,
    advertise_starttls,
    answer_ends,
    before_tls,
    greeting,
)


def test_a_capability_answer_gets_starttls_and_logindisabled() -> None:
    assert advertise_starttls(b"* CAPABILITY IMAP4rev1 IDLE UIDPLUS\r\n") == (
        b"* CAPABILITY IMAP4rev1 IDLE UIDPLUS STARTTLS LOGINDISABLED\r\n"
    )
    assert advertise_starttls(b"* capability IMAP4rev1\n") == (
        b"* capability IMAP4rev1 STARTTLS LOGINDISABLED\n"
    )


def test_a_capability_code_in_the_greeting_or_a_tagged_answer_gets_them_too() -> None:
    assert advertise_starttls(b"* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n") == (
        b"* OK [CAPABILITY IMAP4rev1 IDLE STARTTLS LOGINDISABLED] ready\r\n"
    )
    assert advertise_starttls(b"A1 OK [CAPABILITY IMAP4rev1] done\r\n") == (
        b"A1 OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] done\r\n"
    )


def test_other_lines_and_a_server_that_offers_starttls_already_are_left_as_they_are() -> None:
    for line in (
        b"* OK IMAP4rev1 Server GreenMail ready\r\n",
        b"A2 OK CAPABILITY completed.\r\n",
        b"* CAPABILITY IMAP4rev1 STARTTLS\r\n",
        b"* 3 EXISTS\r\n",
    ):
        assert advertise_starttls(line) == line


def test_starttls_is_answered_by_the_front_and_upgrades() -> None:
    verdict = before_tls(b"A3 starttls\r\n")
    assert verdict.answer == b"A3 OK Begin TLS negotiation now\r\n"
    assert verdict.upgrade and verdict.kind == "starttls" and verdict.command == "STARTTLS"


@pytest.mark.parametrize("line", [b'A4 LOGIN "me" "secret"\r\n', b"A5 authenticate PLAIN\r\n"])
def test_a_login_before_tls_is_refused_and_never_relayed(line: bytes) -> None:
    verdict = before_tls(line)
    tag = line.split()[0]
    assert verdict.answer is not None and verdict.answer.startswith(tag + b" NO [PRIVACYREQUIRED]")
    assert not verdict.upgrade and verdict.kind == "refused"
    assert b"secret" not in verdict.answer


@pytest.mark.parametrize("line", [b"A6 CAPABILITY\r\n", b"A7 NOOP\r\n", b"A8 LOGOUT\r\n"])
def test_the_other_commands_before_tls_go_to_greenmail(line: bytes) -> None:
    verdict = before_tls(line)
    assert verdict.answer is None and verdict.kind == "relayed"


def test_a_plain_front_relays_everything_a_login_too() -> None:
    for line in (b"A9 STARTTLS\r\n", b'A10 LOGIN "me" "secret"\r\n'):
        verdict = before_tls(line, offers_starttls=False)
        assert verdict.answer is None and not verdict.upgrade and verdict.kind == "relayed"
    assert before_tls(b'A10 LOGIN "me" "secret"\r\n', offers_starttls=False).command == "LOGIN"


def test_what_is_not_a_command_is_answered_bad_by_the_front() -> None:
    for line in (b"\r\n", b"garbage\r\n"):
        verdict = before_tls(line)
        assert verdict.command == "" and verdict.answer == b"* BAD not an IMAP command\r\n"


def test_an_answer_ends_with_its_tagged_line_or_a_closed_connection_not_a_bye() -> None:
    assert answer_ends(b"A6 OK CAPABILITY completed.\r\n", b"A6")
    assert not answer_ends(b"* CAPABILITY IMAP4rev1\r\n", b"A6")
    assert not answer_ends(b"A60 OK done\r\n", b"A6")
    assert not answer_ends(b"* BYE logging out\r\n", b"A8")  # its tagged OK follows
    assert answer_ends(b"", b"A8")


GREENMAIL_GREETING = b"* OK IMAP4rev1 Server GreenMail v2.1.13 ready\r\n"


def test_a_preauth_front_greets_as_logged_in_and_still_offers_starttls() -> None:
    greeted = greeting(GREENMAIL_GREETING, Misbehaviour.PREAUTH)
    assert greeted == b"* PREAUTH IMAP4rev1 Server GreenMail v2.1.13 ready\r\n"
    capabilities = advertise_starttls(b"* CAPABILITY IMAP4rev1 IDLE\r\n")
    assert b"STARTTLS" in capabilities  # what it answers CAPABILITY with is unchanged
    assert before_tls(b"A1 STARTTLS\r\n", misbehaviour=Misbehaviour.PREAUTH).upgrade


HONEST_GREETERS = [None, *(m for m in Misbehaviour if m is not Misbehaviour.PREAUTH)]


@pytest.mark.parametrize("misbehaviour", HONEST_GREETERS)
def test_the_greeting_is_passed_on_unchanged_otherwise(misbehaviour: Misbehaviour | None) -> None:
    assert greeting(GREENMAIL_GREETING, misbehaviour) == GREENMAIL_GREETING


def test_a_refusing_front_answers_starttls_no_and_stays_in_plain_text() -> None:
    verdict = before_tls(b"A2 STARTTLS\r\n", misbehaviour=Misbehaviour.REFUSE_STARTTLS)
    assert verdict.answer == b"A2 NO STARTTLS is not available now\r\n"
    assert not verdict.upgrade and verdict.kind == "refused" and verdict.command == "STARTTLS"


@pytest.mark.parametrize(
    ("misbehaviour", "whole_line"),
    [(Misbehaviour.INJECT_AFTER_OK, True), (Misbehaviour.INJECT_PARTIAL_AFTER_OK, False)],
)
def test_an_injecting_front_says_ok_and_more_in_one_write_then_upgrades(
    misbehaviour: Misbehaviour, whole_line: bool
) -> None:
    verdict = before_tls(b"A3 STARTTLS\r\n", misbehaviour=misbehaviour)
    ok = b"A3 OK Begin TLS negotiation now\r\n"
    assert verdict.answer is not None and verdict.answer.startswith(ok)
    injected = verdict.answer.removeprefix(ok)
    assert injected == INJECTED_AFTER_OK[misbehaviour]
    assert injected.startswith(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN]")
    assert b"STARTTLS" not in injected and injected.endswith(b"\r\n") is whole_line
    assert verdict.upgrade and verdict.kind == "starttls"


@pytest.mark.parametrize("misbehaviour", list(Misbehaviour))
def test_a_misbehaving_front_still_refuses_a_login_in_plain_text(
    misbehaviour: Misbehaviour,
) -> None:
    """What a client does after a refusal is recorded, never relayed: a LOGIN never reaches
    GreenMail in plain text, whatever the front's mode."""
    verdict = before_tls(b'A4 LOGIN "me" "secret"\r\n', misbehaviour=misbehaviour)
    assert verdict.kind == "refused" and verdict.command == "LOGIN"
    assert before_tls(b"A5 CAPABILITY\r\n", misbehaviour=misbehaviour).kind == "relayed"
