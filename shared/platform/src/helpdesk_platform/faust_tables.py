"""The workers' Faust tables in RocksDB on their data directory, so a restart reads only the tail.

With Faust's in-memory store a restarted worker replays each table's whole changelog before it
is ready: 98-148 s for 110,000-127,000 open tickets (reliability issue #13), during which no
breach is detected and no ticket assigned. faust-streaming's RocksDB store (``rocksdict``) keeps
each table partition in ``<data dir>/v1/tables/<app id>/<table>-<partition>.db`` together
with the changelog offset it holds; a restart with the directory kept reads the changelog from
there, and a worker with an empty directory (a new pod, a wiped volume) replays it all.

:data:`STORE` names a RocksDB store made for how the workers write (``faust_batches``):

* they write a batch's table changes straight to the store, with the partition of the event
  that caused each (:meth:`Store.put_raw`) - Faust's own store takes it from the *current
  event*, which is not the right one for a whole batch;
* a read looks the key up wherever it is (its partition from the key index, else every open
  partition's database): Faust's store looks only in the current event's partition, which
  would not find, say, the directory rows the assignment worker reads while it decides a ticket
  of another partition (the in-memory store the workers were written for has no partitions);
* the changelog offset a write reached is recorded when Kafka acknowledges it
  (:meth:`Store.persisted`), which Faust does only for its own writes.
"""

from __future__ import annotations

from typing import Any

__all__ = ["STORE", "install"]

#: The ``store`` setting of the workers' Faust apps (after :func:`install`).
STORE = "helpdesk-rocksdb://"

_installed = False


def install() -> None:
    """Register the store under :data:`STORE` (idempotent); call before the app is made."""
    global _installed
    if _installed:
        return
    from faust.stores import STORES

    STORES.aliases["helpdesk-rocksdb"] = "helpdesk_platform.faust_rocksdb:Store"
    _installed = True


def put_raw(store: Any, partition: int, key: bytes, value: bytes) -> bool:
    """Write serialized ``key``/``value`` to the table partition ``partition`` of ``store`` if
    it is a RocksDB store of :data:`STORE`; returns False for any other store."""
    put = getattr(store, "put_raw", None)
    if put is None:
        return False
    put(partition, key, value)
    return True


def track_persisted(store: Any, sent: Any) -> None:
    """Have ``store`` (of :data:`STORE`) record the changelog offset of ``sent`` (the future of a
    changelog record's send) once Kafka acknowledges it; nothing for other stores."""
    persisted = getattr(store, "persisted", None)
    if persisted is not None and hasattr(sent, "add_done_callback"):
        sent.add_done_callback(persisted)
