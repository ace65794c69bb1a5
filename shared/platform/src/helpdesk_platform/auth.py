"""Bearer JWT verification and the roles of the helpdesk.

Tokens are RS256-signed by an issuer (locally ``make token``; in production the identity
provider). Services only verify: they hold the public key, never the private one.

A token must say when it was issued (``iat``) and when it expires (``exp``), and may live at most
:data:`MAX_TOKEN_LIFETIME` (24 h): a stolen long-lived token would otherwise stay valid for years,
since nothing here can revoke it.

The public key file may hold several PEM blocks while keys rotate (the API gateway publishes
the same keys at ``/.well-known/jwks.json``): a token is checked with the key its ``kid`` header
names (the RFC 7638 thumbprint of the key), a token without ``kid`` with the first key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

ISSUER = "helpdesk-local"
AUDIENCE = "helpdesk"
#: The longest a token may be valid (``exp - iat``); longer ones are refused.
MAX_TOKEN_LIFETIME = timedelta(hours=24)


_PEM_BLOCK = re.compile(rb"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)


def public_keys_in(pem: bytes) -> list[bytes]:
    """Every public key PEM block in a file (one, or several during a key rotation)."""
    return _PEM_BLOCK.findall(pem)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def key_id(public_key_pem: bytes) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256) of an RSA public key: its ``kid``."""
    key = serialization.load_pem_public_key(public_key_pem)
    if not isinstance(key, RSAPublicKey):
        raise ValueError("only RSA public keys are supported (RS256)")
    numbers = key.public_numbers()
    e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
    n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
    canonical = json.dumps({"e": _b64(e), "kty": "RSA", "n": _b64(n)}, separators=(",", ":"))
    return _b64(hashlib.sha256(canonical.encode()).digest())


def token_key_id(token: str) -> str | None:
    """The ``kid`` of a JWT's header, read cheaply (PyJWT's parser checks every character of the
    whole token), or None."""
    header = token.split(".", 1)[0]
    try:
        decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except ValueError:
        return None
    kid = decoded.get("kid") if isinstance(decoded, dict) else None
    return kid if isinstance(kid, str) else None


class Role(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    TECHNICIAN = "technician"
    MANAGER = "manager"


STAFF_ROLES = frozenset({Role.AGENT, Role.TECHNICIAN, Role.MANAGER})


class AuthenticationError(Exception):
    """The request carries no valid token; the message says what is wrong."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject and role."""

    subject: str
    role: Role
    name: str | None = None
    email: str | None = None
    #: The service that minted the token on the person's behalf (e.g. ``mail-gateway``), when
    #: one did; portal tokens never carry it.
    via: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


class TokenVerifier:
    """Verifies bearer tokens; remembers recently verified ones until they expire.

    An RS256 verification costs ~0.1 ms of CPU, a noticeable share of a request, and clients send
    the same token many times. A cached token is only honoured until its own ``exp``.
    """

    def __init__(
        self,
        public_key_pem: bytes,
        *,
        issuer: str = ISSUER,
        audience: str = AUDIENCE,
        cache_size: int = 4096,
        max_lifetime: timedelta = MAX_TOKEN_LIFETIME,
    ):
        self._key = public_key_pem
        self._max_lifetime = max_lifetime.total_seconds()
        blocks = public_keys_in(public_key_pem)
        # Several keys (a rotation): each by its kid; tokens without one use the first.
        self._keys_by_id = {key_id(block): block for block in blocks} if len(blocks) > 1 else {}
        if self._keys_by_id:
            self._key = blocks[0]
        self._issuer = issuer
        self._audience = audience
        self._cache_size = cache_size
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    @classmethod
    def from_file(
        cls, path: Path, *, issuer: str = ISSUER, audience: str = AUDIENCE
    ) -> TokenVerifier:
        try:
            return cls(path.read_bytes(), issuer=issuer, audience=audience)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"JWT public key {path} not found: run `make up` (it creates the dev key pair) "
                "or set HELPDESK_JWT_PUBLIC_KEY_FILE"
            ) from None

    def verify(self, authorization: str | None) -> Principal:
        """Verify an ``Authorization: Bearer <jwt>`` header value."""
        if not authorization:
            raise AuthenticationError(
                "missing Authorization header: send 'Authorization: Bearer <token>' "
                "(get one locally with `make token ROLE=agent`)"
            )
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationError("Authorization header must be 'Bearer <token>'")
        cached = self._verified.get(token)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        principal, expires_at = self._decode(token)
        self._verified[token] = (principal, expires_at)
        if len(self._verified) > self._cache_size:
            self._verified.popitem(last=False)
        return principal

    def _decode(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(
                token,
                self._key_for(token),
                algorithms=["RS256"],
                issuer=self._issuer,
                audience=self._audience,
                options={"require": ["sub", "exp", "iat", "role"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationError("token expired: get a new one") from None
        except jwt.PyJWTError as error:
            raise AuthenticationError(f"invalid token: {error}") from None
        lifetime = float(claims["exp"]) - float(claims["iat"])
        if lifetime > self._max_lifetime:
            hours = self._max_lifetime / 3600
            raise AuthenticationError(
                f"token lifetime too long: tokens may be valid for at most {hours:g} h "
                "(exp - iat); get a shorter-lived one"
            )
        try:
            role = Role(claims["role"])
        except ValueError:
            raise AuthenticationError(f"unknown role {claims['role']!r} in token") from None
        principal = Principal(
            subject=str(claims["sub"]),
            role=role,
            name=claims.get("name"),
            email=claims.get("email"),
            via=claims.get("via"),
        )
        return principal, float(claims["exp"])

    def _key_for(self, token: str) -> bytes:
        if not self._keys_by_id:
            return self._key
        return self._keys_by_id.get(token_key_id(token) or "", self._key)
