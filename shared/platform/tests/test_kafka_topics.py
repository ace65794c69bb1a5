"""A worker's own topics created ahead, on the real Kafka."""

from __future__ import annotations

import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from helpdesk_platform.kafka_topics import COMPACTED, TopicSpec, ensure_topics

pytestmark = pytest.mark.integration


async def test_missing_topics_are_created_once_and_listed(kafka_bootstrap: str) -> None:
    prefix = f"own-{uuid.uuid4().hex[:8]}"
    specs = [
        TopicSpec(f"{prefix}-ticks", 3),
        TopicSpec(f"{prefix}-state-changelog", 3, config=COMPACTED),
    ]
    assert await ensure_topics(kafka_bootstrap, specs) == [spec.name for spec in specs]
    assert await ensure_topics(kafka_bootstrap, specs) == []  # there already: nothing to do
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        described = {t["topic"]: t for t in await admin.describe_topics([s.name for s in specs])}
        assert {name: len(t["partitions"]) for name, t in described.items()} == {
            spec.name: 3 for spec in specs
        }
        resource = ConfigResource(ConfigResourceType.TOPIC, f"{prefix}-state-changelog")
        (response,) = await admin.describe_configs([resource])
        configs = {entry[0]: entry[1] for entry in response.resources[0][4]}
        assert {key: configs[key] for key in COMPACTED} == COMPACTED
    finally:
        await admin.close()
