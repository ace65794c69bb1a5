"""Changelogs read straight into the workers' RocksDB tables before Faust starts (issue #13).

A worker with an empty data directory (a new pod, a wiped volume) or far behind its changelog
has Faust recover its tables record by record: each changelog record goes through Faust's
consumer, conductor and recovery buffers and is decoded on the way, which on this machine came
to ~450 records/s at load 15 and ~75 records/s at load 30-44 (100,000 open tickets: 4 to 23
minutes of blindness). The bytes Faust finally writes are the changelog's key and value as
they are, with the offset they reached (``Store.apply_changelog_batch``).

:func:`preload_tables` does that write itself, before the Faust worker starts: per table, a
plain consumer (no group) reads each partition from the offset its database holds to the end
with large fetches and writes the raw records in one RocksDB write batch per fetch, followed by
the offset reached - the same database files, options and offset key Faust's store uses. Faust
then finds its tables nearly at the end and recovers only what was written since. A worker
less than ``min_lag`` records behind in total skips it (a kept directory: Faust reads the tail).

Every partition of the changelog is read, which is what a worker owning them all (one replica,
as deployed) needs; with several replicas each would hold the others' partitions too, which is
harmless (Faust reads an assigned partition on from the offset its database holds) but costs
disk, hence ``HELPDESK_*_PRELOAD_MIN_LAG`` = 0 to turn it off.
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition

__all__ = ["DEFAULT_MIN_LAG", "preload_tables"]

log = structlog.get_logger("helpdesk_platform.faust_preload")

#: Below this many changelog records behind in total, Faust's own recovery reads the tail.
DEFAULT_MIN_LAG = 10_000
#: Large fetches: the records are written as they come, nothing is decoded.
_FETCH_BYTES = 32 * 1024 * 1024
_PARTITION_FETCH_BYTES = 8 * 1024 * 1024
_MAX_RECORDS = 20_000


async def preload_tables(app: Any, bootstrap: str, min_lag: int = DEFAULT_MIN_LAG) -> int:
    """Read the changelog of each of ``app``'s RocksDB tables into its databases (see the
    module); returns the records written. Call before the Faust worker starts."""
    if min_lag <= 0:
        return 0
    written = 0
    for table in app.tables.values():
        store = table.data
        if not hasattr(store, "rocksdb_options"):
            continue  # not a RocksDB table
        changelog = table.changelog_topic
        partitions = changelog.partitions or app.conf.topic_partitions
        try:
            written += await _preload(
                store, changelog.get_topic_name(), partitions, bootstrap, min_lag
            )
        except Exception as error:
            # A database locked by a process still alive, Kafka not reachable yet: the worker
            # starts anyway and Faust's own recovery reads on from the offset the database holds.
            log.warning("changelog preload skipped", table=table.name, error=repr(error))
    return written


async def _preload(store: Any, topic: str, partitions: int, bootstrap: str, min_lag: int) -> int:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        fetch_max_bytes=_FETCH_BYTES,
        max_partition_fetch_bytes=_PARTITION_FETCH_BYTES,
        fetch_max_wait_ms=100,
    )
    await consumer.start()
    dbs: dict[TopicPartition, Any] = {}
    try:
        tps = [TopicPartition(topic, partition) for partition in range(partitions)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        begins = await consumer.beginning_offsets(tps)
        starts: dict[TopicPartition, int] = {}
        for tp in tps:
            db = dbs[tp] = store.rocksdb_options.open(store.partition_path(tp.partition))
            held = db.get(store.offset_key)
            starts[tp] = max(begins[tp], int(held) + 1) if held is not None else begins[tp]
        lag = sum(max(0, ends[tp] - starts[tp]) for tp in tps)
        if lag < min_lag:
            return 0
        began = time.monotonic()
        behind = {tp for tp in tps if ends[tp] > starts[tp]}
        for tp in tps:
            if tp in behind:
                consumer.seek(tp, starts[tp])
        consumer.pause(*(tp for tp in tps if tp not in behind))
        written = 0
        idle = 0  # fetches in a row that brought nothing: leave the rest to Faust
        while behind and idle < 5:
            fetched = await consumer.getmany(*behind, timeout_ms=1000, max_records=_MAX_RECORDS)
            idle = 0 if any(fetched.values()) else idle + 1
            for tp, records in fetched.items():
                if not records:
                    continue
                batch = _write_batch()
                for record in records:
                    if record.value is None:
                        batch.delete(record.key)
                    else:
                        batch.put(record.key, record.value)
                batch.put(store.offset_key, str(records[-1].offset).encode())
                dbs[tp].write(batch)
                written += len(records)
            for tp in list(behind):
                if await consumer.position(tp) >= ends[tp]:
                    behind.discard(tp)
                    consumer.pause(tp)
        log.info(
            "changelog preloaded",
            topic=topic,
            records=written,
            seconds=round(time.monotonic() - began, 3),
        )
        return written
    finally:
        for db in dbs.values():
            db.close()  # Faust opens them again (RocksDB allows one opener)
        await consumer.stop()


def _write_batch() -> Any:
    import rocksdict

    return rocksdict.WriteBatch(raw_mode=True)
