"""``group_membership_failure``: a worker whose Kafka group membership task ended with an error
reports it on ``/healthz`` (issue #13).

The object path is Faust's and aiokafka's own (app → consumer → consumer thread → aiokafka
consumer → group coordinator → its coordination task); these tests build that path around a
real asyncio task instead of starting Kafka, to cover each state the task can be in.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from helpdesk_platform.faust_worker import group_membership_failure


def app_with(task: asyncio.Task[Any] | None) -> Any:
    coordinator = SimpleNamespace(_coordination_task=task)
    thread = SimpleNamespace(_consumer=SimpleNamespace(_coordinator=coordinator))
    return SimpleNamespace(_consumer=SimpleNamespace(_thread=thread))


async def test_a_running_or_finished_membership_is_no_failure() -> None:
    assert group_membership_failure(SimpleNamespace(_consumer=None)) is None  # type: ignore[arg-type]
    assert group_membership_failure(app_with(None)) is None
    running = asyncio.create_task(asyncio.sleep(10))
    assert group_membership_failure(app_with(running)) is None
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert group_membership_failure(app_with(running)) is None  # stopped by the worker itself
    finished = asyncio.create_task(asyncio.sleep(0))
    await finished
    assert group_membership_failure(app_with(finished)) is None


async def test_a_membership_task_that_died_is_reported() -> None:
    async def coordination_routine() -> None:
        raise AssertionError("assignment is not active")

    task = asyncio.create_task(coordination_routine())
    await asyncio.wait([task])
    failure = group_membership_failure(app_with(task))
    assert failure is not None
    assert "AssertionError" in failure and "assignment is not active" in failure
