"""What counts as plain text after an IMAP server's ``OK`` to STARTTLS (``adapters/imap.py:
lines_after_tagged_answer``, fed the lines aioimaplib handled): any line there is refused as a
response injection, so the rule is checked on the lines a server (or a man in the middle) sends.
A partial line is aioimaplib's ``incomplete_line``, refused beside this. The refusals themselves
run against a misbehaving server in ``tests/integration/test_mail_tls.py``."""

from __future__ import annotations

import pytest

from mail_gateway.adapters.imap import lines_after_tagged_answer

OK = b"HIJK3 OK Begin TLS negotiation now"


def test_an_ok_that_ends_what_was_handled_leaves_nothing() -> None:
    assert lines_after_tagged_answer([OK], "HIJK3") == []
    assert lines_after_tagged_answer([b"* OK still plain", OK], "HIJK3") == []  # before it: fine


@pytest.mark.parametrize(
    "injected",
    [
        [b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN]"],  # capabilities without STARTTLS
        [b"HIJK4 OK CAPABILITY completed"],  # the answer to the next command, guessed
        [b""],  # an empty line
        [b"* CAPABILITY IMAP4rev1", b"HIJK4 OK done"],
    ],
)
def test_any_line_after_the_ok_is_returned(injected: list[bytes]) -> None:
    assert lines_after_tagged_answer([OK, *injected], "HIJK3") == injected


def test_a_longer_tag_with_the_same_start_is_not_the_answer() -> None:
    other = b"HIJK30 OK other"
    assert lines_after_tagged_answer([other, OK], "HIJK3") == []
    assert lines_after_tagged_answer([other], "HIJK3") == [other]


def test_without_the_tagged_answer_everything_is_unexplained() -> None:
    assert lines_after_tagged_answer([b"* OK no answer"], "HIJK3") == [b"* OK no answer"]
