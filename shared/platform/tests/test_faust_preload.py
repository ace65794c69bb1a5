"""A worker's empty data directory is filled from its table's changelog before Faust starts
(reliability issue #13; why in :mod:`helpdesk_platform.faust_preload`), on the real Kafka, into
the same RocksDB databases and offsets Faust's store then reads."""

from __future__ import annotations

import uuid
from pathlib import Path

import faust
import pytest
from aiokafka import AIOKafkaProducer
from faust.types import TP

from helpdesk_platform import faust_worker
from helpdesk_platform.faust_preload import preload_tables
from helpdesk_platform.kafka_topics import COMPACTED, TopicSpec, ensure_topics

pytestmark = pytest.mark.integration


def _app(bootstrap: str, name: str, datadir: Path) -> tuple[faust.App, faust.Table]:
    faust_worker.prepare()
    app = faust.App(
        name,
        broker=f"kafka://{bootstrap}",
        store=faust_worker.STORE,
        datadir=str(datadir),
        topic_partitions=2,
        web_enabled=False,
    )
    return app, app.Table("state", default=None, partitions=2)


async def test_an_empty_data_directory_is_filled_from_the_changelog(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    name = f"preload-{uuid.uuid4().hex[:8]}"
    app, table = _app(kafka_bootstrap, name, tmp_path)
    topic = table.changelog_topic.get_topic_name()
    await ensure_topics(kafka_bootstrap, [TopicSpec(topic, 2, 1, COMPACTED)])
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for i in range(30):
            await producer.send_and_wait(topic, b"v%d" % i, key=b"k%d" % i, partition=i % 2)
        await producer.send_and_wait(topic, b"v0-again", key=b"k0", partition=0)
        await producer.send_and_wait(topic, None, key=b"k1", partition=1)  # deleted
    finally:
        await producer.stop()

    # Fewer records behind than the threshold: left to Faust's recovery.
    assert await preload_tables(app, kafka_bootstrap, min_lag=1000) == 0
    assert await preload_tables(app, kafka_bootstrap, min_lag=1) == 32

    store = table.data
    assert store.persisted_offset(TP(topic, 0)) == 15  # 15 records and the overwrite
    assert store.persisted_offset(TP(topic, 1)) == 15  # 15 records and the deletion
    first, second = store._db_for_partition(0), store._db_for_partition(1)
    assert first[b"k0"] == b"v0-again"
    assert first[b"k28"] == b"v28"
    assert second.get(b"k1") is None
    assert second[b"k29"] == b"v29"
    kept = [list(db.keys()) for db in (first, second)]  # a raw Rdict is not iterable itself
    assert [len(keys) - (store.offset_key in keys) for keys in kept] == [15, 14]
    for db in (first, second):
        db.close()
    store._dbs.clear()

    # Caught up: nothing more to read, however low the threshold.
    assert await preload_tables(app, kafka_bootstrap, min_lag=1) == 0
    # Turned off.
    assert await preload_tables(app, kafka_bootstrap, min_lag=0) == 0


async def test_a_preload_that_cannot_read_leaves_the_recovery_to_faust(tmp_path: Path) -> None:
    """Kafka not reachable (or a database still locked): the worker starts anyway."""
    app, table = _app("127.0.0.1:1", f"preload-{uuid.uuid4().hex[:8]}", tmp_path)
    assert await preload_tables(app, "127.0.0.1:1", min_lag=1) == 0
    assert table.data._dbs == {}  # nothing left open for Faust to trip over
