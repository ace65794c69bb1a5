"""Creating a worker's own Kafka topics before its consumer joins the group.

A Faust worker creates its internal topics (timer ticks, repartition topics, table changelogs)
while it starts, and its consumer joins the group a few milliseconds later. When the topic is
not yet in the metadata the join uses, the group's assignment leaves it out, and it is only
picked up at the next metadata refresh (``metadata_max_age_ms``: 5 minutes): the SLA worker's
timer ticks went unread that long on a first start (no warning, no breach), seen in CI. Creating
the topics first, and waiting until the cluster lists them, closes that window. On a cluster
where the topics are declared ahead (Kubernetes, ``deploy/k8s/kafka``) this finds them and does
nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

log = structlog.get_logger("helpdesk_platform.kafka_topics")

__all__ = ["COMPACTED", "TopicSpec", "ensure_topics"]

#: A table's changelog: the latest record per key is kept. Kafka compacts only closed segments,
#: and by default a segment closes at 1 GiB or after 7 days, so a worker's restart replayed every
#: change since the topic was made (the assignment worker: ~480,000 records for ~115,000 tickets,
#: over 2 minutes). Segments of 16 MiB or 10 minutes let the cleaner keep the replay near the
#: number of live keys.
COMPACTED: Mapping[str, str] = {
    "cleanup.policy": "compact",
    "segment.bytes": str(16 * 1024 * 1024),
    "segment.ms": str(10 * 60 * 1000),
}


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication: int = 1
    config: Mapping[str, str] = field(default_factory=dict)


async def ensure_topics(
    bootstrap: str, topics: Sequence[TopicSpec], *, listed_within: float = 60.0
) -> list[str]:
    """Create the topics that do not exist; return once the cluster lists every one of them.

    Returns the names it created. Raises :class:`TimeoutError` when they are not listed
    ``listed_within`` seconds after the request.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in topics if spec.name not in existing]
        if missing:
            # A topic another replica created meanwhile comes back as an error in the
            # response, not an exception; the wait below is what counts.
            await admin.create_topics(
                [
                    NewTopic(
                        spec.name,
                        num_partitions=spec.partitions,
                        replication_factor=spec.replication,
                        topic_configs=dict(spec.config),
                    )
                    for spec in missing
                ]
            )
            log.info("topics created", topics=[spec.name for spec in missing])
        wanted = {spec.name for spec in topics}
        deadline = time.monotonic() + listed_within
        while not wanted <= set(await admin.list_topics()):
            if time.monotonic() > deadline:
                absent = sorted(wanted - set(await admin.list_topics()))
                raise TimeoutError(f"topics not listed after {listed_within:.0f} s: {absent}")
            await asyncio.sleep(0.2)
        return [spec.name for spec in missing]
    finally:
        await admin.close()
