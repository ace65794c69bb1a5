"""The tailing loops' pause: short while events flow, doubling to a ceiling while the log is
quiet, short again after a write of this process."""

from __future__ import annotations

import asyncio

import pytest

from ticket_service.adapters.idle_pacer import IdlePacer


async def test_a_quiet_log_doubles_the_pause_up_to_the_ceiling() -> None:
    pacer = IdlePacer(0.001, 0.008)
    waits = []
    for _ in range(6):
        waits.append(pacer.next_wait)
        await pacer.pause(found=0)
    assert waits == [0.001, 0.002, 0.004, 0.008, 0.008, 0.008]


async def test_events_found_bring_the_pause_back_to_the_shortest() -> None:
    pacer = IdlePacer(0.001, 0.008)
    for _ in range(5):
        await pacer.pause(found=0)
    await pacer.pause(found=3)
    assert pacer.next_wait == 0.002  # the shortest was just used; an empty look doubles it


async def _finishes_without_a_timer(pausing: asyncio.Task[None]) -> bool:
    """Whether ``pausing`` ends within a few turns of the event loop (no timer could fire in
    them: the shortest pause in these tests is seconds)."""
    for _ in range(20):
        if pausing.done():
            return True
        await asyncio.sleep(0)
    return pausing.done()


async def test_a_write_ends_a_long_pause_at_once_and_resets_it() -> None:
    pacer = IdlePacer(5.0, 40.0)
    pausing = asyncio.create_task(pacer.pause(found=0))  # would last 5 s, then 10 s next
    await asyncio.sleep(0)  # it is waiting now
    pacer.wake()
    assert await _finishes_without_a_timer(pausing)
    assert pacer.next_wait == 5.0


async def test_a_write_between_looks_makes_the_next_pause_end_at_once() -> None:
    pacer = IdlePacer(5.0, 10.0)
    pacer.wake()
    assert await _finishes_without_a_timer(asyncio.create_task(pacer.pause(found=0)))
    assert pacer.next_wait == 5.0


@pytest.mark.parametrize(("shortest", "longest"), [(0, 1), (-1, 1), (0.2, 0.1)])
def test_pauses_out_of_order_are_refused(shortest: float, longest: float) -> None:
    with pytest.raises(ValueError, match="shortest"):
        IdlePacer(shortest, longest)
