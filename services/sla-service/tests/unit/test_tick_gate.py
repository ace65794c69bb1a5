"""The tick gate: a tick goes out, and acts, only once its partition is processed far enough."""

from __future__ import annotations

from datetime import UTC, datetime

from sla_service.service_layer.due_index import DueIndex
from sla_service.service_layer.tick_gate import Tick, TickGate

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_a_tick_is_held_until_its_partition_is_processed_up_to_the_end_offset() -> None:
    gate = TickGate()
    gate.advance(0, 10)
    gate.hold([("a", 0)], {0: 15})
    assert gate.release() == []
    assert len(gate) == 1
    gate.advance(0, 14)
    assert gate.release() == []
    gate.advance(0, 15)
    assert gate.release() == [Tick("a", 0, 15)]
    assert gate.release() == []  # released once
    assert len(gate) == 0


def test_a_partition_already_processed_to_its_end_releases_at_once() -> None:
    gate = TickGate()
    gate.advance(3, 42)
    gate.hold([("a", 3), ("b", 3)], {3: 42})
    assert sorted(gate.release(), key=lambda t: t.ticket_id) == [
        Tick("a", 3, 42),
        Tick("b", 3, 42),
    ]


def test_nothing_is_released_while_the_processed_offset_is_unknown() -> None:
    gate = TickGate()
    gate.hold([("a", 1)], {1: 0})
    assert gate.processed(1) is None
    assert gate.release() == []
    gate.advance(1, 0)  # resumed at the start of an empty partition
    assert gate.release() == [Tick("a", 1, 0)]


def test_partitions_are_gated_each_on_its_own_offset() -> None:
    gate = TickGate()
    gate.hold([("a", 0), ("b", 1), ("c", 2)], {0: 5, 1: 100, 2: 7})
    gate.advance(0, 5)
    gate.advance(1, 99)
    gate.advance(2, 8)
    assert sorted(gate.release(), key=lambda t: t.ticket_id) == [
        Tick("a", 0, 5),
        Tick("c", 2, 7),
    ]
    assert len(gate) == 1
    gate.advance(1, 100)
    assert gate.release() == [Tick("b", 1, 100)]


def test_processed_offsets_never_go_back() -> None:
    gate = TickGate()
    gate.advance(0, 20)
    gate.advance(0, 12)  # an older figure (a committed offset behind the agent)
    assert gate.processed(0) == 20
    gate.hold([("a", 0)], {0: 20})
    assert gate.release() == [Tick("a", 0, 20)]


def test_a_ticket_held_again_waits_for_the_newer_end_offset() -> None:
    gate = TickGate()
    gate.hold([("a", 0)], {0: 5})
    gate.hold([("a", 0)], {0: 9})
    gate.advance(0, 5)
    assert gate.release() == []
    assert len(gate) == 1
    gate.advance(0, 9)
    assert gate.release() == [Tick("a", 0, 9)]


def test_the_agent_acts_on_a_tick_only_once_it_processed_the_ticks_offset() -> None:
    gate = TickGate()
    assert not gate.caught_up(0, 10)  # nothing known processed
    gate.advance(0, 8)
    assert not gate.caught_up(0, 10)
    # Records processed earlier in the batch at hand count (the tick sees their states).
    assert gate.caught_up(0, 10, seen=10)
    assert not gate.caught_up(0, 10, seen=9)
    gate.advance(0, 10)
    assert gate.caught_up(0, 10)
    assert gate.caught_up(0, 3)
    assert not gate.caught_up(1, 0)  # another partition: unknown


def test_a_tick_without_an_offset_is_deferred() -> None:
    gate = TickGate()
    gate.advance(0, 1_000)
    assert not gate.caught_up(0, None)
    assert not gate.caught_up(0, None, seen=2_000)


def test_a_deferred_tick_goes_back_on_the_index_and_out_again_after_catching_up() -> None:
    """The worker's path for a tick sent before a crash and read after the restart, with the
    tickets backlog still coming: deferred as due now, held on the end offset, sent once the
    backlog is processed, then acted on."""
    gate, index = TickGate(), DueIndex()
    gate.advance(2, 50)  # resumed at the committed offset
    stale_offset = 60  # the tick's offset from before the crash
    assert not gate.caught_up(2, stale_offset)
    index.set("a", 2, T0)  # deferred: due now
    due = index.pop_due(T0)
    assert due == [("a", 2)]
    gate.hold(due, {2: 75})  # the end offset now: the backlog
    assert gate.release() == []
    gate.advance(2, 75)
    (tick,) = gate.release()
    assert tick == Tick("a", 2, 75)
    assert gate.caught_up(tick.partition, tick.offset)


def test_revoking_partitions_drops_their_held_ticks_and_offsets() -> None:
    gate = TickGate()
    gate.advance(0, 5)
    gate.advance(1, 5)
    gate.hold([("a", 0), ("b", 1)], {0: 9, 1: 9})
    gate.revoke([0])
    assert gate.processed(0) is None
    assert gate.processed(1) == 5
    assert len(gate) == 1
    gate.advance(0, 9)  # assigned again: starts from its resume offset
    gate.advance(1, 9)
    assert gate.release() == [Tick("b", 1, 9)]


def test_revoking_everything_and_dropping_pending() -> None:
    gate = TickGate()
    gate.advance(0, 5)
    gate.hold([("a", 0)], {0: 9})
    gate.revoke()
    assert gate.processed(0) is None
    assert len(gate) == 0
    gate.advance(0, 5)
    gate.hold([("a", 0)], {0: 9})
    gate.drop_pending()  # the due index was rebuilt from the table: it holds them again
    assert len(gate) == 0
    assert gate.processed(0) == 5  # what was processed stays known
    gate.advance(0, 9)
    assert gate.release() == []


def test_a_first_hold_is_handed_back_for_a_second_once_reached() -> None:
    """A reply an outage held back reaches Kafka after the first end offset was read: the
    tick waits for the end offset read when the first was reached."""
    gate = TickGate()
    gate.hold([("a", 0), ("b", 0)], {0: 10}, last=False)
    gate.advance(0, 9)
    assert gate.recheck() == [] and gate.release() == []
    gate.advance(0, 10)
    assert gate.release() == []  # never released on its first hold
    assert sorted(gate.recheck()) == [("a", 0), ("b", 0)]
    assert gate.recheck() == [] and len(gate) == 0  # taken off the gate
    gate.hold([("a", 0), ("b", 0)], {0: 14})  # the reply came at offset 12
    assert gate.release() == []
    gate.advance(0, 14)
    assert sorted(gate.release(), key=lambda t: t.ticket_id) == [
        Tick("a", 0, 14),
        Tick("b", 0, 14),
    ]
    assert gate.recheck() == []


def test_a_second_hold_on_a_partition_already_processed_releases_at_once() -> None:
    gate = TickGate()
    gate.advance(1, 30)
    gate.hold([("a", 1)], {1: 30}, last=False)
    assert gate.recheck() == [("a", 1)]
    gate.hold([("a", 1)], {1: 30})
    assert gate.release() == [Tick("a", 1, 30)]


def test_first_and_last_holds_on_one_partition_are_apart() -> None:
    gate = TickGate()
    gate.hold([("first", 2)], {2: 5}, last=False)
    gate.hold([("last", 2)], {2: 5})
    gate.advance(2, 5)
    assert gate.release() == [Tick("last", 2, 5)]
    assert gate.recheck() == [("first", 2)]


def test_revoking_drops_first_holds_too() -> None:
    gate = TickGate()
    gate.hold([("a", 0)], {0: 3}, last=False)
    gate.revoke([0])
    gate.advance(0, 10)
    assert gate.recheck() == [] and gate.release() == []
