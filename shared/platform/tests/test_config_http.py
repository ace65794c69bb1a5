"""The HTTP rules of configuration APIs: If-Match versions and the manager-only check."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from helpdesk_platform.auth import AUDIENCE, ISSUER, Role, TokenVerifier
from helpdesk_platform.config_http import (
    HttpRefusal,
    etag,
    expected_version,
    if_match_version,
    record_headers,
    require_role,
)


def _private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY = _private_key()
PUBLIC = KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


def token(role: str = "agent", sub: str = "someone", key: rsa.RSAPrivateKey = KEY) -> str:
    now = int(time.time())
    claims = {"sub": sub, "role": role, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 60}
    return jwt.encode(claims, key, "RS256")


@pytest.mark.parametrize(
    ("header", "version"), [('"3"', 3), ('W/"12"', 12), ("0", 0), (' "7" ', 7)]
)
def test_if_match_names_a_version(header: str, version: int) -> None:
    assert expected_version(header, read_from="GET /rules") == version
    assert expected_version(etag(version), read_from="GET /rules") == version


@pytest.mark.parametrize("header", [None, "", "   "])
def test_a_missing_if_match_is_428(header: str | None) -> None:
    with pytest.raises(HttpRefusal, match="the ETag of GET /policies") as caught:
        expected_version(header, read_from="GET /policies")
    assert caught.value.status == 428


@pytest.mark.parametrize("header", ['"abc"', "*", '"-1"', '"1", "2"', '"1.5"', '"²"'])
def test_a_malformed_if_match_is_400(header: str) -> None:
    with pytest.raises(HttpRefusal, match="If-Match must be one version") as caught:
        expected_version(header, read_from="GET /rules")
    assert caught.value.status == 400


def test_only_the_role_may_act() -> None:
    verifier = TokenVerifier(PUBLIC)
    manager = require_role(
        verifier, f"Bearer {token(role='manager', sub='m-1')}", action="change SLA policies"
    )
    assert (manager.subject, manager.role) == ("m-1", Role.MANAGER)

    with pytest.raises(HttpRefusal, match="only managers may change SLA policies") as caught:
        require_role(verifier, f"Bearer {token(role='agent')}", action="change SLA policies")
    assert caught.value.status == 403


@pytest.mark.parametrize(
    "authorization",
    [None, "Basic abc", "Bearer not-a-jwt", f"Bearer {token('manager', key=_private_key())}"],
)
def test_no_valid_token_is_401(authorization: str | None) -> None:
    with pytest.raises(HttpRefusal) as caught:
        require_role(TokenVerifier(PUBLIC), authorization, action="read rules")
    assert caught.value.status == 401


@pytest.mark.parametrize("header", [None, "", "  ", "*", " * "])
def test_an_optional_if_match_may_be_missing_or_any(header: str | None) -> None:
    assert if_match_version(header, required=False, read_from="GET /tickets/1") is None


@pytest.mark.parametrize(("header", "version"), [('"3"', 3), ('W/"12"', 12), ("4", 4)])
def test_an_optional_if_match_names_a_version_the_same_way(header: str, version: int) -> None:
    assert if_match_version(header, required=False, read_from="GET /tickets/1") == version


@pytest.mark.parametrize("header", ['"abc"', '"-1"', '"1", "2"', 'W/"x"'])
def test_a_malformed_optional_if_match_is_400_too(header: str) -> None:
    with pytest.raises(HttpRefusal, match="the ETag of GET /teams/1") as caught:
        if_match_version(header, required=False, read_from="GET /teams/1")
    assert caught.value.status == 400


def test_record_headers_carry_the_version_and_the_new_place() -> None:
    assert record_headers(3) == {"ETag": '"3"'}
    assert record_headers(1, "/teams/9") == {"ETag": '"1"', "Location": "/teams/9"}
