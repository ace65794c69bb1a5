"""The helpdesk's name for the mail the gateway sends (sign-in links, invitations, password
resets), from the ticket service's public branding document (``GET /branding``).

Kept for a minute: a manager's rename shows in the next minute's mail. A mail never waits long
for it nor fails for it: when the ticket service does not answer, the last name known (or
"Helpdesk", the ticket service's own default) is used.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import structlog

log = structlog.get_logger()

DEFAULT_NAME = "Helpdesk"


class HelpdeskName:
    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        *,
        keep_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._url = base_url.rstrip("/") + "/branding"
        self._keep = keep_seconds
        self._clock = clock
        self._name = DEFAULT_NAME
        self._fresh_until = float("-inf")

    async def __call__(self) -> str:
        if self._clock() < self._fresh_until:
            return self._name
        try:
            answer = await self._client.get(self._url, timeout=3.0)
            answer.raise_for_status()
            name = str(answer.json()["helpdesk_name"]).strip()
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
            log.warning("branding unavailable; mail keeps the last name", error=repr(error))
            return self._name
        self._name = name or DEFAULT_NAME
        self._fresh_until = self._clock() + self._keep
        return self._name
