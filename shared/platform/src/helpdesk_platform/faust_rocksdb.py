"""The RocksDB store of the workers' Faust tables (see :mod:`helpdesk_platform.faust_tables`).

Imported by Faust when an app's ``store`` is ``helpdesk-rocksdb://``; needs ``rocksdict``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from faust.stores.rocksdb import Store as RocksDBStore

__all__ = ["Store"]


class Store(RocksDBStore):
    """Faust's RocksDB store, written with explicit partitions and read from any partition."""

    @property
    def path(self) -> Path:
        """``<tabledir>/<app id>``: apps that share a data directory (tests do) each have their
        own databases, which RocksDB locks for one process at a time."""
        path = Path(self.app.conf.tabledir) / str(self.app.conf.id)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def put_raw(self, partition: int, key: bytes, value: bytes) -> None:
        """Write a serialized key and value to the table's partition ``partition``."""
        self._db_for_partition(partition).put(key, value)
        self._key_index[key] = partition

    def raw_items(self) -> Iterator[tuple[bytes, bytes]]:
        """The serialized keys and values of the partitions this worker holds, not decoded by
        Faust's codecs (a reader that needs a few fields of every value decodes them faster)."""
        return self._iteritems()

    def _set(self, key: bytes, value: bytes | None) -> None:
        # Faust's own writes (none in the workers) go where Faust puts them.
        super()._set(key, value)

    def _get(self, key: bytes) -> bytes | None:
        found = self._get_bucket_for_key(key)
        return None if found is None else found.value

    def persisted(self, result: Any) -> None:
        """Record the changelog offset of an acknowledged write (a done future of a send)."""
        if result.cancelled() or result.exception() is not None:
            return
        metadata = result.result()
        self.set_persisted_offset(metadata.topic_partition, metadata.offset)
