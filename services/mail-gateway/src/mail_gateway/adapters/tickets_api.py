"""The ticket service's HTTP API, called with short-lived tokens the gateway mints itself.

Inbound mail goes in with a customer token for its sender (the ticket service's ownership rules
apply as for the portal), or an agent's token when the sender is an active agent answering a
ticket; delivery states, bounces and downloads of attachments with the gateway's
own staff token. Every token carries ``via: mail-gateway``, which the ticket service's mail
routes require before they accept email headers.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mail_gateway.domain.agents import Agent

VIA = "mail-gateway"
ISSUER = "helpdesk-local"
AUDIENCE = "helpdesk"
TOKEN_TTL = timedelta(minutes=5)


class TicketServiceUnavailable(Exception):
    """A network error or 5xx: try again later (the mail stays unhandled on the server)."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def idempotency_key(account: str, email_message_id: str, step: str = "") -> str:
    digest = hashlib.sha256(f"{account.lower()}\n{email_message_id}\n{step}".encode()).hexdigest()
    return f"mail-{digest[:48]}"


class TokenMinter:
    def __init__(self, private_key_pem: bytes) -> None:
        # Parsed once: PyJWT would parse (and check) the PEM on every encode, ~60 ms of CPU for
        # a 2048-bit key - more than everything else the gateway does for a mail.
        key = serialization.load_pem_private_key(private_key_pem, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("HELPDESK_JWT_PRIVATE_KEY_FILE must hold an RSA key (RS256)")
        self._key = key
        self._cache: dict[tuple[str, str], tuple[str, float]] = {}

    def token(
        self, role: str, subject: str, *, email: str | None = None, name: str | None = None
    ) -> str:
        cached = self._cache.get((role, subject))
        if cached is not None and cached[1] > time.time() + 60:
            return cached[0]
        now = datetime.now(UTC).replace(microsecond=0)
        claims: dict[str, Any] = {
            "sub": subject,
            "role": role,
            "name": name or subject,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": int(now.timestamp()),
            "exp": int((now + TOKEN_TTL).timestamp()),
            "via": VIA,
        }
        if email:
            claims["email"] = email
        token = jwt.encode(claims, self._key, algorithm="RS256")
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[(role, subject)] = (token, now.timestamp() + TOKEN_TTL.total_seconds())
        return token

    def customer(self, email: str, name: str | None) -> str:
        return self.token("customer", f"mail:{email.lower()}", email=email.lower(), name=name)

    def agent(self, agent: Agent) -> str:
        """An agent answering by mail: the claims the portal's staff tokens carry (``sub`` the
        agent's id, their role, name and email), so the ticket service records the agent's
        public reply as if typed in the portal."""
        return self.token(agent.role, str(agent.agent_id), email=agent.email, name=agent.name)

    def gateway(self) -> str:
        return self.token("agent", VIA, name="Mail gateway")


class TicketsApi:
    def __init__(self, base_url: str, minter: TokenMinter, timeout: float = 30.0) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        )
        self.minter = minter

    @property
    def client(self) -> httpx.AsyncClient:
        """The connection pool to the ticket service, also for its public reads (branding)."""
        return self._client

    async def close(self) -> None:
        await self._client.aclose()

    async def _call(self, method: str, url: str, token: str, **kwargs: Any) -> Answer:
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        try:
            response = await self._client.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as error:
            raise TicketServiceUnavailable(f"{method} {url}: {type(error).__name__}") from None
        if response.status_code >= 500 or response.status_code == 409:
            # 409: the ticket changed under us; a retry decides again on the new state.
            raise TicketServiceUnavailable(f"{method} {url}: {response.status_code}")
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = {"detail": response.text[:500]}
        return Answer(response.status_code, body if isinstance(body, dict) else {"items": body})

    async def upload(self, token: str, filename: str, content_type: str, data: bytes) -> Answer:
        return await self._call(
            "POST",
            f"/attachments?filename={quote(filename, safe='')}",
            token,
            content=data,
            headers={"Content-Type": content_type},
        )

    async def open_ticket(self, token: str, body: dict[str, Any], key: str) -> Answer:
        return await self._call(
            "POST", "/mail/tickets", token, json=body, headers={"Idempotency-Key": key}
        )

    async def mail_batch(self, items: list[dict[str, Any]]) -> list[Answer] | None:
        """Customers' mails of a batch in one request with the gateway's own token (each item
        with its key and, for a message, its ``ticket_id``): each item's answer as the single
        route would give it. None: the request as a whole was refused (4xx; send them alone)."""
        answer = await self._call(
            "POST", "/mail/tickets/batch", self.minter.gateway(), json={"items": items}
        )
        if not answer.ok:
            return None
        return [
            Answer(item["status"], item.get("outcome") or {"detail": item.get("detail") or ""})
            for item in answer.body["items"]
        ]

    async def add_message(
        self, token: str, ticket_id: uuid.UUID, body: dict[str, Any], key: str
    ) -> Answer:
        return await self._call(
            "POST",
            f"/mail/tickets/{ticket_id}/messages",
            token,
            json=body,
            headers={"Idempotency-Key": key},
        )

    async def record_bounce(self, ticket_id: uuid.UUID, body: dict[str, Any], key: str) -> Answer:
        """Record a bounce of the ticket's mail (delivery states go in batches:
        :meth:`record_deliveries`)."""
        return await self._call(
            "POST",
            f"/mail/tickets/{ticket_id}/bounces",
            self.minter.gateway(),
            json=body,
            headers={"Idempotency-Key": key},
        )

    async def record_deliveries(self, items: list[dict[str, Any]]) -> Answer:
        """Delivery states of many tickets in one request (each item names its ticket and
        key); the ticket service stores each once per key."""
        return await self._call(
            "POST", "/mail/deliveries", self.minter.gateway(), json={"items": items}
        )

    async def download(self, attachment_id: str) -> bytes:
        try:
            response = await self._client.get(
                f"/attachments/{attachment_id}",
                headers={"Authorization": f"Bearer {self.minter.gateway()}"},
            )
        except httpx.HTTPError as error:
            raise TicketServiceUnavailable(f"download: {type(error).__name__}") from None
        if response.status_code != 200:
            raise TicketServiceUnavailable(f"download {attachment_id}: {response.status_code}")
        return response.content
