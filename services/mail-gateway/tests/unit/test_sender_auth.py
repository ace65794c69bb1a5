"""The inbox server's Authentication-Results decide whether a From: is believed."""

from __future__ import annotations

import pytest

from mail_gateway.domain.sender_auth import Authentication, aligned, judge

TRUSTED = frozenset({"mx.helpdesk.example"})
GOOGLE_STYLE = (
    "mx.helpdesk.example;\r\n       dkim=pass header.i=@example.com header.s=s1 header.b=abc;\r\n"
    "       spf=pass (domain of a@example.com designates 192.0.2.1 as permitted sender)"
    " smtp.mailfrom=a@example.com;\r\n       dmarc=pass (p=NONE) header.from=example.com"
)


def verdict(*headers: str, sender: str = "dewi@example.com") -> Authentication:
    return judge(headers, sender, TRUSTED).authentication


def test_nothing_is_checked_without_a_trusted_server() -> None:
    result = judge(
        ["mx.helpdesk.example; dkim=fail header.d=example.com"], "a@example.com", frozenset()
    )
    assert result.authentication is Authentication.UNCHECKED
    assert not result.failed


def test_a_folded_header_with_every_method_passing() -> None:
    assert verdict(GOOGLE_STYLE) is Authentication.PASSED


@pytest.mark.parametrize(
    "results",
    [
        "dmarc=pass header.from=example.com",
        "dkim=pass header.d=example.com",
        "dkim=pass header.i=@example.com",
        "dkim=pass header.d=mail.example.com",  # relaxed alignment: a subdomain's signature
        "spf=pass smtp.mailfrom=bounces@example.com",
        "spf=pass smtp.mailfrom=example.com",
        "dkim=fail header.d=example.com; spf=pass smtp.mailfrom=a@example.com",
    ],
)
def test_one_aligned_pass_is_enough(results: str) -> None:
    assert verdict(f"mx.helpdesk.example; {results}") is Authentication.PASSED


@pytest.mark.parametrize(
    "results",
    [
        "none",
        "dkim=fail header.d=example.com",
        "dkim=pass header.d=attacker.example",  # signed, but by someone else
        "spf=pass smtp.mailfrom=a@attacker.example",
        "spf=softfail smtp.mailfrom=a@example.com",
        "dmarc=pass header.from=attacker.example",
        "dmarc=fail header.from=example.com",
        "dkim=pass header.d=notexample.com",  # a suffix, not a subdomain
        "arc=pass",
    ],
)
def test_anything_else_fails(results: str) -> None:
    result = judge([f"mx.helpdesk.example; {results}"], "dewi@example.com", TRUSTED)
    assert result.authentication is Authentication.FAILED
    assert "example.com" in result.reason


def test_only_the_topmost_trusted_header_counts() -> None:
    """A sender can add any header further down; the trusted server's own comes first."""
    forged_below = [
        "mx.helpdesk.example; dkim=fail header.d=example.com",
        "mx.helpdesk.example; dkim=pass header.d=example.com",
    ]
    assert verdict(*forged_below) is Authentication.FAILED
    assert verdict(*reversed(forged_below)) is Authentication.PASSED


def test_headers_of_other_servers_are_skipped() -> None:
    other = "mx.elsewhere.example; dkim=pass header.d=example.com"
    assert verdict(other) is Authentication.FAILED
    assert verdict(other, "mx.helpdesk.example; spf=pass smtp.mailfrom=example.com") is (
        Authentication.PASSED
    )


def test_the_authserv_id_is_compared_without_case() -> None:
    assert verdict("MX.Helpdesk.Example; dkim=pass header.d=EXAMPLE.com") is Authentication.PASSED


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        ";;; ===",
        # Microsoft's form without an authserv-id is not RFC 8601: not the trusted server's.
        "spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=example.com;"
        " dkim=pass header.d=example.com",
    ],
)
def test_an_unparsable_header_is_not_the_trusted_servers(garbage: str) -> None:
    result = judge([garbage], "dewi@example.com", TRUSTED)
    assert result.authentication is Authentication.FAILED
    assert "no Authentication-Results for example.com from a trusted server" in result.reason


def test_no_header_at_all_fails_when_a_server_is_trusted() -> None:
    assert verdict() is Authentication.FAILED


@pytest.mark.parametrize(
    ("one", "other", "expected"),
    [
        ("example.com", "example.com", True),
        ("mail.example.com", "example.com", True),
        ("example.com", "mail.example.com", True),
        ("example.com", "notexample.com", False),
        ("", "example.com", False),
        ("example.com", "example.org", False),
    ],
)
def test_relaxed_alignment(one: str, other: str, expected: bool) -> None:
    assert aligned(one, other) is expected
