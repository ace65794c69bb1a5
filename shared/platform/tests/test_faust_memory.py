"""Freezing what survives a collection: later collections skip it, garbage is still collected."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from helpdesk_platform.faust_memory import freeze_survivors


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_surviving_objects_are_frozen_and_left_out_of_collections() -> None:
    table = {f"ticket:{n}": {"status": "Open", "loads": [n]} for n in range(10_000)}
    assert any(tracked is table for tracked in gc.get_objects())
    frozen = freeze_survivors()
    assert frozen == gc.get_freeze_count() >= 10_000
    # The generations a collection walks no longer hold the table.
    assert not any(tracked is table for tracked in gc.get_objects())


def test_a_cycle_made_after_the_freeze_is_still_collected() -> None:
    freeze_survivors()

    class Node:
        other: object = None

    first, second = Node(), Node()
    first.other, second.other = second, first
    del first, second
    assert gc.collect() >= 2
