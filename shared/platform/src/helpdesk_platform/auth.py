"""Bearer JWT verification and the roles of the helpdesk.

Tokens are RS256-signed by an issuer (locally ``make token``; in production the identity
provider). Services only verify: they hold the public key, never the private one.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import jwt

ISSUER = "helpdesk-local"
AUDIENCE = "helpdesk"


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
    ):
        self._key = public_key_pem
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
                self._key,
                algorithms=["RS256"],
                issuer=self._issuer,
                audience=self._audience,
                options={"require": ["sub", "exp", "iat", "role"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationError("token expired: get a new one") from None
        except jwt.PyJWTError as error:
            raise AuthenticationError(f"invalid token: {error}") from None
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
