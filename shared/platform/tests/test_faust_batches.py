"""Greedy batches: what has arrived, at most ``max_events``, acknowledged only after the batch.

The stream here is a stand-in with the three things ``greedy_batches`` uses (``enable_acks``,
``events()``, ``ack()``); the workers' integration tests run it on Faust and the real Kafka.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from helpdesk_platform.faust_batches import greedy_batches


class ArrivingEvents:
    """Events put in by the test as it likes; records what was acknowledged."""

    def __init__(self) -> None:
        self.enable_acks = True
        self.arriving: asyncio.Queue[object] = asyncio.Queue()
        self.acked: list[object] = []
        self.failure: Exception | None = None

    async def events(self) -> AsyncIterator[object]:
        while True:
            event = await self.arriving.get()
            if event is None:
                if self.failure is not None:
                    raise self.failure
                return
            yield event

    async def ack(self, event: object) -> bool:
        self.acked.append(event)
        return True


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_batch_is_everything_that_has_arrived_up_to_the_maximum() -> None:
    stream = ArrivingEvents()
    for number in range(7):
        stream.arriving.put_nowait(number)
    batches = greedy_batches(stream, max_events=5)
    first = await anext(batches)
    second = await anext(batches)
    assert (first, second) == ([0, 1, 2, 3, 4], [5, 6])
    assert stream.enable_acks is False  # Faust must not acknowledge them on its own
    await batches.aclose()


async def test_a_lone_event_is_handed_over_without_waiting_for_more() -> None:
    stream = ArrivingEvents()
    batches = greedy_batches(stream, max_events=500)
    waiting = asyncio.ensure_future(anext(batches))
    await settle()
    assert not waiting.done()
    stream.arriving.put_nowait("only")
    assert await asyncio.wait_for(waiting, 1) == ["only"]
    await batches.aclose()


async def test_events_are_acknowledged_only_after_their_batch_was_handled() -> None:
    stream = ArrivingEvents()
    for event in ("a", "b"):
        stream.arriving.put_nowait(event)
    batches = greedy_batches(stream, max_events=10)
    assert await anext(batches) == ["a", "b"]
    stream.arriving.put_nowait("c")
    await settle()
    assert stream.acked == []  # the caller is still handling a and b
    assert await anext(batches) == ["c"]
    assert stream.acked == ["a", "b"]
    await batches.aclose()


async def test_events_keep_arriving_while_a_batch_is_handled() -> None:
    stream = ArrivingEvents()
    stream.arriving.put_nowait(1)
    batches = greedy_batches(stream, max_events=100)
    assert await anext(batches) == [1]
    for number in range(2, 12):  # arrive while the caller works on [1]
        stream.arriving.put_nowait(number)
    await settle()
    assert await anext(batches) == list(range(2, 12))
    await batches.aclose()


async def test_the_end_of_the_stream_ends_the_batches() -> None:
    stream = ArrivingEvents()
    for event in ("x", None):
        stream.arriving.put_nowait(event)
    seen = [batch async for batch in greedy_batches(stream, max_events=10)]
    assert seen == [["x"]]
    assert stream.acked == ["x"]


async def test_a_failing_stream_raises_in_the_caller() -> None:
    stream = ArrivingEvents()
    stream.failure = RuntimeError("consumer crashed")
    stream.arriving.put_nowait(None)
    with pytest.raises(RuntimeError, match="consumer crashed"):
        await anext(greedy_batches(stream, max_events=10))
