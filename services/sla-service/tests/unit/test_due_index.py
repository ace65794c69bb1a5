"""The in-memory due index of the SLA timers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sla_service.service_layer.due_index import DueIndex

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_pops_due_tickets_in_order_once() -> None:
    index = DueIndex()
    index.set("b", 1, T0 + timedelta(seconds=2))
    index.set("a", 0, T0 + timedelta(seconds=1))
    index.set("c", 2, T0 + timedelta(seconds=5))
    assert index.pop_due(T0) == []
    assert index.pop_due(T0 + timedelta(seconds=2)) == [("a", 0), ("b", 1)]
    assert index.pop_due(T0 + timedelta(seconds=2)) == []
    assert len(index) == 1
    assert index.next_instant() == T0 + timedelta(seconds=5)


def test_a_new_instant_replaces_the_old_one_and_none_removes() -> None:
    index = DueIndex()
    index.set("a", 0, T0 + timedelta(seconds=1))
    index.set("a", 0, T0 + timedelta(seconds=10))
    assert index.pop_due(T0 + timedelta(seconds=5)) == []
    index.set("a", 0, T0 + timedelta(seconds=1))  # back to an instant pushed before
    assert index.pop_due(T0 + timedelta(seconds=5)) == [("a", 0)]
    assert index.pop_due(T0 + timedelta(seconds=20)) == []
    index.set("b", 3, T0)
    index.set("b", 3, None)
    assert index.pop_due(T0 + timedelta(days=1)) == []
    assert index.next_instant() is None


def test_clear_forgets_everything() -> None:
    index = DueIndex()
    index.set("a", 0, T0)
    index.clear()
    assert len(index) == 0
    assert index.pop_due(T0) == []


def test_load_replaces_the_index_with_the_entries_given() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    index = DueIndex()
    index.set("old", 0, t0)
    index.load(
        [
            ("late", 1, t0 + timedelta(minutes=5)),
            ("never", 2, None),
            ("soon", 3, t0 + timedelta(minutes=1)),
        ]
    )
    assert len(index) == 2
    assert index.next_instant() == t0 + timedelta(minutes=1)
    assert index.pop_due(t0 + timedelta(minutes=10)) == [("soon", 3), ("late", 1)]
    assert len(index) == 0
    # Loaded entries are replaced and removed as set ones are.
    index.load([("a", 0, t0 + timedelta(minutes=2))])
    index.set("a", 0, t0 + timedelta(minutes=3))
    assert index.pop_due(t0 + timedelta(minutes=2)) == []
    assert index.pop_due(t0 + timedelta(minutes=3)) == [("a", 0)]
