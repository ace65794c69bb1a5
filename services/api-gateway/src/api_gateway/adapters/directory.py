"""The ticket service's directory over HTTP, as the gateway needs it: customers by email
(registered when new) and the bootstrap manager's agent record.

The gateway acts with a short-lived service token it signs itself (subject ``api-gateway``);
the ticket service checks it like any other token.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from api_gateway.service_layer.errors import DirectoryRefused, DirectoryUnavailable

__all__ = ["AgentRecord", "Contact", "DirectoryRefused", "DirectoryUnavailable", "TicketDirectory"]


@dataclass(frozen=True)
class Contact:
    id: uuid.UUID
    email: str
    name: str


@dataclass(frozen=True)
class AgentRecord:
    id: uuid.UUID
    email: str
    name: str
    role: str
    active: bool


class TicketDirectory:
    def __init__(
        self, client: httpx.AsyncClient, base_url: str, service_token: Callable[[str], str]
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._token = service_token  # role -> bearer token

    def _headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token(role)}"}

    async def _call(
        self,
        method: str,
        path: str,
        role: str,
        *,
        params: dict[str, str | int] | None = None,
        json: dict[str, str] | None = None,
    ) -> httpx.Response:
        try:
            return await self._client.request(
                method,
                self._base + path,
                headers=self._headers(role),
                params=params,
                json=json,
                timeout=10.0,
            )
        except httpx.HTTPError as error:
            raise DirectoryUnavailable(f"ticket service: {error!r}") from None

    async def customer_by_email(self, email: str) -> Contact | None:
        answer = await self._call(
            "GET", "/customers", "agent", params={"q": email, "page_size": 100}
        )
        if answer.status_code != 200:
            raise DirectoryUnavailable(
                f"ticket service answered {answer.status_code} on /customers"
            )
        for item in answer.json()["items"]:
            if (item.get("email") or "").lower() == email:
                return Contact(uuid.UUID(item["id"]), email, item["name"])
        return None

    async def register_customer(self, email: str) -> Contact:
        """The contact with this email, registered now if there is none (as a first ticket by
        email would)."""
        found = await self.customer_by_email(email)
        if found is not None:
            return found
        name = email.split("@", 1)[0]
        answer = await self._call(
            "POST", "/customers", "agent", json={"name": name, "email": email, "channel": "portal"}
        )
        if answer.status_code == 201:
            return Contact(uuid.UUID(answer.json()["id"]), email, answer.json()["name"])
        if answer.status_code == 409:  # registered meanwhile by someone else
            again = await self.customer_by_email(email)
            if again is not None:
                return again
        raise DirectoryUnavailable(
            f"ticket service answered {answer.status_code} on POST /customers"
        )

    async def agent_by_email(self, email: str) -> AgentRecord | None:
        answer = await self._call(
            "GET", "/agents", "manager", params={"q": email, "page_size": 100}
        )
        if answer.status_code != 200:
            raise DirectoryUnavailable(f"ticket service answered {answer.status_code} on /agents")
        for item in answer.json()["items"]:
            if item["email"].lower() == email:
                return _agent(item)
        return None

    async def invite_agent(self, email: str, name: str, role: str) -> AgentRecord:
        answer = await self._call(
            "POST", "/agents", "manager", json={"email": email, "name": name, "role": role}
        )
        if answer.status_code == 201:
            return _agent(answer.json())
        if 400 <= answer.status_code < 500:
            raise DirectoryRefused(
                f"ticket service refused the agent ({answer.status_code}): {answer.text[:300]}"
            )
        raise DirectoryUnavailable(
            f"ticket service answered {answer.status_code} on POST /agents: {answer.text[:200]}"
        )


def _agent(item: dict[str, object]) -> AgentRecord:
    return AgentRecord(
        id=uuid.UUID(str(item["id"])),
        email=str(item["email"]).lower(),
        name=str(item["name"]),
        role=str(item["role"]),
        active=bool(item["active"]),
    )
