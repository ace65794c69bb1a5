"""Whether a mail's sender is who its From: says, as the inbox's own mail server judged it.

A From: header is whatever the sender typed. The gateway does not check DKIM signatures or SPF
records itself (that needs DNS and the connecting IP, which only the receiving server had): the
receiving server of the inbox did, and wrote its verdicts into an ``Authentication-Results``
header (RFC 8601) on top of the mail. Anyone can add such a header further down, so only one
header counts: the topmost one whose authserv-id the operator named as trusted (the inbox
provider's, e.g. ``mx.google.com``); a conforming server removes headers that claim its id
before adding its own.

The sender is authenticated when that header says, for the From: domain:
``dmarc=pass`` for it, or ``dkim=pass`` with a signing domain aligned with it, or
``spf=pass`` with a MAIL FROM domain aligned with it. Aligned is DMARC's relaxed alignment,
approximated without the public suffix list: one domain equals the other or ends with
``.<the other>`` (a signature for ``mail.example.com`` vouches for ``example.com`` mail and the
reverse; nobody can sign for a bare public suffix).

With no trusted authserv-id configured nothing is checked (``UNCHECKED``): the local stack's
GreenMail adds no such header.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

import authres

_FEATURES = authres.all_features()
_FOLD = re.compile(r"\r?\n[ \t]+")


class Authentication(Enum):
    UNCHECKED = "unchecked"  # no trusted authserv-id configured
    PASSED = "passed"
    FAILED = "failed"


@dataclass(frozen=True)
class SenderVerdict:
    authentication: Authentication
    reason: str

    @property
    def failed(self) -> bool:
        return self.authentication is Authentication.FAILED


UNCHECKED = SenderVerdict(Authentication.UNCHECKED, "sender authentication not configured")


def _domain(value: str | None) -> str:
    """The domain of an address, ``@domain`` or bare domain, lower case."""
    return (value or "").rsplit("@", 1)[-1].strip().strip(".").lower()


def aligned(one: str, other: str) -> bool:
    if not one or not other:
        return False
    return one == other or one.endswith("." + other) or other.endswith("." + one)


def _passes(method: str, properties: dict[str, str], from_domain: str) -> bool:
    if method == "dmarc":
        return _domain(properties.get("header.from")) == from_domain
    if method == "dkim":
        signer = properties.get("header.d") or properties.get("header.i")
        return aligned(_domain(signer), from_domain)
    if method == "spf":
        return aligned(_domain(properties.get("smtp.mailfrom")), from_domain)
    return False


def _parsed(value: str) -> authres.AuthenticationResultsHeader | None:
    """The header, or None when it is not RFC 8601 (then not the trusted server's, which
    writes the grammar; authres raises its own SyntaxError and others on odd input)."""
    try:
        return _FEATURES.parse_value(_FOLD.sub(" ", str(value)))
    except Exception:
        return None


def judge(
    results_headers: Iterable[str], from_address: str, trusted: frozenset[str]
) -> SenderVerdict:
    """The verdict on ``from_address`` from a mail's ``Authentication-Results`` header values,
    in the order they stand in the mail (topmost first)."""
    if not trusted:
        return UNCHECKED
    from_domain = _domain(from_address)
    for value in results_headers:
        header = _parsed(value)
        if header is None or str(header.authserv_id).lower() not in trusted:
            continue
        said: list[str] = []
        for result in header.results:
            method, outcome = str(result.method).lower(), str(result.result).lower()
            properties = {f"{p.type}.{p.name}".lower(): str(p.value) for p in result.properties}
            said.append(f"{method}={outcome}")
            if outcome == "pass" and _passes(method, properties, from_domain):
                return SenderVerdict(
                    Authentication.PASSED, f"{method}=pass for {from_domain} ({header.authserv_id})"
                )
        verdicts = ", ".join(said) or "none"
        return SenderVerdict(
            Authentication.FAILED,
            f"{header.authserv_id} found no DKIM, SPF or DMARC pass for {from_domain} ({verdicts})",
        )
    servers = ", ".join(sorted(trusted))
    return SenderVerdict(
        Authentication.FAILED,
        f"no Authentication-Results for {from_domain} from a trusted server ({servers})",
    )
