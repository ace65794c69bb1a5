"""Managing webhook subscriptions (managers only; the routes check the role).

A subscription is checked before it is stored: an http(s) URL whose host does not resolve to a
private or loopback address (unless allowed), known event types, a condition that parses. The
secret is generated here, shown once on creation and on rotation; after a rotation the old
secret still signs deliveries (a second signature) for ``overlap``, so receivers can switch
without losing any.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from helpdesk_conditions import Condition, ConditionError
from notification_service.adapters import webhook_store
from notification_service.adapters.webhook_dispatcher import check_target
from notification_service.domain.webhooks import (
    SubscriptionError,
    check_event_types,
    check_url,
    new_secret,
)


class NotFound(LookupError):
    pass


def _check_condition(source: str | None) -> str | None:
    if source is None or not source.strip():
        return None
    try:
        return Condition.parse(source).source
    except ConditionError as error:
        raise SubscriptionError(f"condition: {error}") from None


class Webhooks:
    def __init__(self, pool: asyncpg.Pool, *, allow_private: bool, overlap: timedelta) -> None:
        self._pool = pool
        self._allow_private = allow_private
        self._overlap = overlap

    async def _check_url(self, url: str) -> str:
        check_url(url)
        await check_target(url, allow_private=self._allow_private)
        return url

    async def create(
        self,
        owner: str,
        *,
        url: str,
        event_types: list[str],
        condition: str | None,
        description: str | None,
    ) -> dict[str, Any]:
        """The stored subscription with its ``secret``; raises ``SubscriptionError`` or
        ``TargetRefused`` when it cannot be kept."""
        checked_url = await self._check_url(url)
        types = check_event_types(event_types)
        secret = new_secret()
        row = await webhook_store.create(
            self._pool,
            owner=owner,
            url=checked_url,
            description=description,
            event_types=types,
            condition=_check_condition(condition),
            secret=secret,
        )
        return {**row, "secret": secret}

    async def get(self, subscription_id: uuid.UUID) -> dict[str, Any]:
        row = await webhook_store.get(self._pool, subscription_id)
        if row is None:
            raise NotFound(f"no webhook {subscription_id}")
        return row

    async def all(self) -> list[dict[str, Any]]:
        return await webhook_store.list_all(self._pool)

    async def update(self, subscription_id: uuid.UUID, changes: dict[str, Any]) -> dict[str, Any]:
        checked: dict[str, Any] = {}
        if "url" in changes:
            checked["url"] = await self._check_url(changes["url"])
        if "event_types" in changes:
            checked["event_types"] = list(check_event_types(changes["event_types"]))
        if "condition" in changes:
            checked["condition"] = _check_condition(changes["condition"])
        for key in ("description", "enabled"):
            if key in changes:
                checked[key] = changes[key]
        if not checked:
            return await self.get(subscription_id)
        row = await webhook_store.update(self._pool, subscription_id, checked)
        if row is None:
            raise NotFound(f"no webhook {subscription_id}")
        return row

    async def delete(self, subscription_id: uuid.UUID) -> None:
        if not await webhook_store.delete(self._pool, subscription_id):
            raise NotFound(f"no webhook {subscription_id}")

    async def rotate_secret(self, subscription_id: uuid.UUID) -> dict[str, Any]:
        secret = new_secret()
        row = await webhook_store.rotate_secret(
            self._pool, subscription_id, secret, datetime.now(UTC) + self._overlap
        )
        if row is None:
            raise NotFound(f"no webhook {subscription_id}")
        return {**row, "secret": secret}

    async def deliveries(
        self, subscription_id: uuid.UUID, limit: int, before: int | None
    ) -> list[dict[str, Any]]:
        await self.get(subscription_id)
        return await webhook_store.deliveries(self._pool, subscription_id, limit, before)

    async def redeliver(self, subscription_id: uuid.UUID, delivery_id: uuid.UUID) -> None:
        if not await webhook_store.redeliver(self._pool, subscription_id, delivery_id):
            raise NotFound(f"webhook {subscription_id} has no delivery {delivery_id}")
