"""One Faust worker on the real Kafka: records taken from aiokafka but never given to the agent.

``python faust_pause_scenario.py <bootstrap> <out.json> [--fixed]`` (run by
``test_faust_delivery.py``, in a process of its own so that Faust is patched or not):

1. a worker with a table reads a topic of two partitions; the first five records of partition 0
   are processed and committed;
2. the partitions are paused (as when a recovery ends or a rebalance starts) and five records
   arrive, which are taken from aiokafka without reaching the agent - what Faust's ``getmany``
   does with the records of a partition that is not active when they come back, and what an
   emptied set of active partitions makes aiokafka hand it (see faust_delivery);
3. the partitions are resumed and five more records arrive.

Faust as it is gives the agent ten records and commits offset 15: it took the jump from 4 to 10
for a gap in the log and acked 5-9. With :func:`helpdesk_platform.faust_delivery.install` the
agent gets all fifteen, in order.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import uuid
from pathlib import Path

import faust
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faust.types import TP

from helpdesk_platform.kafka_topics import TopicSpec, ensure_topics


async def scenario(bootstrap: str, fixed: bool) -> dict[str, object]:
    if fixed:
        from helpdesk_platform import faust_delivery

        faust_delivery.install()
    name = f"pause-{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [TopicSpec(name, partitions=2)])
    app = faust.App(
        name,
        broker=f"kafka://{bootstrap}",
        store="memory://",
        datadir=tempfile.mkdtemp(),
        topic_partitions=2,
        consumer_auto_offset_reset="earliest",
        web_enabled=False,
        broker_commit_interval=0.2,
    )
    topic = app.topic(
        name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )
    app.Table("seen", default=int, partitions=2)
    offsets: list[int] = []

    async def agent(stream: object) -> None:
        async for event in stream.events():  # type: ignore[attr-defined]
            if event.message.partition == 0:
                offsets.append(event.message.offset)

    app.agent(topic, name=f"{name}-agent")(agent)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()

    async def send(count: int) -> None:
        for _ in range(count):
            await producer.send_and_wait(name, b"x", partition=0)

    async def until(condition: object, within: float) -> bool:
        deadline = asyncio.get_running_loop().time() + within
        while not condition():  # type: ignore[operator]
            if asyncio.get_running_loop().time() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    await app.start()
    try:
        busy, quiet = TP(name, 0), TP(name, 1)
        await until(lambda: {busy, quiet} <= app.consumer.assignment(), 60)
        await until(lambda: not app.rebalancing and not app.in_recovery, 60)
        await send(5)
        await until(lambda: len(offsets) >= 5, 30)
        await app.consumer.commit()
        # Paused (as for a recovery or a rebalance), five records arrive and are taken from
        # aiokafka without reaching the agent - what Faust's getmany does with records of a
        # partition that is not active when they come back (see faust_delivery).
        app.consumer.pause_partitions({busy, quiet})
        await asyncio.sleep(1.5)  # the fetch in flight, if any, has returned
        await send(5)
        taken: list[int] = []
        while len(taken) < 5:
            records = await app.consumer._thread.getmany({busy}, 1.0)
            taken += [record.offset for record in records.get(busy, [])]
        app.consumer.resume_partitions({busy, quiet})
        await send(5)
        await until(lambda: offsets and offsets[-1] >= 14, 15)
        await asyncio.sleep(1.0)
        await app.consumer.commit()
        return {"taken": taken, "offsets": offsets, "group": name}
    finally:
        await producer.stop()
        await app.stop()


async def committed_offset(bootstrap: str, group: str) -> int | None:
    """The group's committed offset of the busy partition, after the worker stopped."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    found = offsets.get(TopicPartition(group, 0))
    return None if found is None else found.offset


def main() -> None:
    bootstrap, out = sys.argv[1], Path(sys.argv[2])
    result = asyncio.run(scenario(bootstrap, "--fixed" in sys.argv[3:]))
    result["committed"] = asyncio.run(committed_offset(bootstrap, str(result.pop("group"))))
    out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
