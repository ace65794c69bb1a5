"""The gateway's signing keys: access tokens are signed with the current key, and every key
still trusted is published at ``/.well-known/jwks.json`` (RFC 7517), each with its RFC 7638
thumbprint as ``kid``.

Rotation: generate a new pair, publish the new public key to the services (their
``HELPDESK_JWT_PUBLIC_KEY_FILE`` may hold several PEM blocks) and name the old public key in
``HELPDESK_GATEWAY_PREVIOUS_PUBLIC_KEY_FILES``; switch ``HELPDESK_JWT_PRIVATE_KEY_FILE`` to the
new key; after one access-token lifetime, drop the old key everywhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from jwt.algorithms import RSAAlgorithm

from helpdesk_platform.auth import (
    AUDIENCE,
    ISSUER,
    AuthenticationError,
    Principal,
    TokenVerifier,
    key_id,
    public_keys_in,
    token_key_id,
)


def _pem(key: RSAPublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _load_public(pem: bytes) -> RSAPublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, RSAPublicKey):
        raise ValueError("only RSA public keys are supported (RS256)")
    return key


class KeyRing:
    def __init__(self, private_pem: bytes, trusted_public_pems: Iterable[bytes] = ()) -> None:
        private = serialization.load_pem_private_key(private_pem, password=None)
        if not isinstance(private, RSAPrivateKey):
            raise ValueError("the signing key must be an RSA private key (RS256)")
        self._private_pem = private_pem
        self.kid = key_id(_pem(private.public_key()))
        public: dict[str, RSAPublicKey] = {self.kid: private.public_key()}
        for pem in trusted_public_pems:
            key = _load_public(pem)
            public.setdefault(key_id(pem), key)
        self._public = public
        self._verifiers = {kid: TokenVerifier(_pem(key)) for kid, key in public.items()}

    @classmethod
    def from_files(cls, private_file: Path, public_files: Iterable[Path] = ()) -> KeyRing:
        try:
            private_pem = private_file.read_bytes()
        except FileNotFoundError:
            raise FileNotFoundError(
                f"JWT signing key {private_file} not found: run `make up` (it creates the dev "
                "key pair) or set HELPDESK_JWT_PRIVATE_KEY_FILE"
            ) from None
        pems = [
            pem
            for path in public_files
            if path.is_file()
            for pem in public_keys_in(path.read_bytes())
        ]
        return cls(private_pem, pems)

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, key in self._public.items():
            jwk = RSAAlgorithm.to_jwk(key, as_dict=True)
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": keys}

    def sign(
        self,
        *,
        subject: str,
        role: str,
        name: str | None,
        email: str | None,
        now: datetime,
        lifetime: timedelta,
    ) -> str:
        issued = int(now.timestamp())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": subject,
            "role": role,
            "iat": issued,
            "exp": issued + int(lifetime.total_seconds()),
            "jti": str(uuid.uuid4()),
        }
        if name:
            claims["name"] = name
        if email:
            claims["email"] = email
        return jwt.encode(claims, self._private_pem, algorithm="RS256", headers={"kid": self.kid})

    def verify(self, authorization: str | None) -> Principal:
        """Verify a bearer header with the key its ``kid`` names (or each trusted key)."""
        if not authorization:
            raise AuthenticationError(
                "missing Authorization header: send 'Authorization: Bearer <token>'"
            )
        _, _, token = authorization.partition(" ")
        kid = token_key_id(token.strip())
        if kid in self._verifiers:
            return self._verifiers[kid].verify(authorization)
        failure: AuthenticationError | None = None
        for verifier in self._verifiers.values():
            try:
                return verifier.verify(authorization)
            except AuthenticationError as error:
                failure = error
        assert failure is not None
        raise failure
