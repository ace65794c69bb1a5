"""ConfigLog on the real Kafka: replicas agree, optimistic writes, a restart reads it all back."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from helpdesk_events import Actor, ActorKind, EventEnvelope
from helpdesk_events.directory import TeamLeadChanged
from helpdesk_platform.config_log import ConfigConflict, ConfigLog, ConfigRefused

ADMIN = Actor(kind=ActorKind.AGENT, id="admin")
# Any registered event type serves: the log does not care what the configuration is.
LEADS = [uuid.UUID(int=i) for i in range(1, 6)]


def fold(state: tuple[uuid.UUID, ...], envelope: EventEnvelope) -> tuple[uuid.UUID, ...]:
    event = envelope.payload()
    assert isinstance(event, TeamLeadChanged)
    if event.lead_id is None:
        raise ValueError("a lead is required here")
    if event.lead_id in state:
        raise ValueError(f"{event.lead_id} is listed already")
    return (*state, event.lead_id)


async def _topic(bootstrap: str) -> str:
    name = f"test-config-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    return name


def _log(bootstrap: str, topic: str, stream_id: uuid.UUID) -> ConfigLog[tuple[uuid.UUID, ...]]:
    return ConfigLog(
        bootstrap=bootstrap,
        topic=topic,
        stream_id=stream_id,
        stream_type="test-config",
        initial=(),
        fold=fold,
    )


@pytest.mark.asyncio
async def test_replicas_agree_and_the_loser_of_a_race_gets_a_conflict(kafka_bootstrap: str) -> None:
    topic = await _topic(kafka_bootstrap)
    stream_id = uuid.uuid4()
    first, second = _log(kafka_bootstrap, topic, stream_id), _log(kafka_bootstrap, topic, stream_id)
    await first.start()
    await second.start()
    try:
        made = await first.append(
            TeamLeadChanged(lead_id=LEADS[0]), expected_version=0, actor=ADMIN
        )
        assert made == 1
        # Both decide on version 1 at once: exactly one wins, on both replicas alike.
        outcomes = await asyncio.gather(
            first.append(TeamLeadChanged(lead_id=LEADS[1]), expected_version=1, actor=ADMIN),
            second.append(TeamLeadChanged(lead_id=LEADS[2]), expected_version=1, actor=ADMIN),
            return_exceptions=True,
        )
        assert sorted(type(o).__name__ for o in outcomes) == ["ConfigConflict", "int"]
        await _until(lambda: second.version == first.version == 2)
        assert first.state == second.state
        assert len(first.state) == 2

        with pytest.raises(ConfigRefused, match="listed already"):
            await second.append(TeamLeadChanged(lead_id=LEADS[0]), expected_version=2, actor=ADMIN)
        with pytest.raises(ConfigConflict):
            await second.append(TeamLeadChanged(lead_id=LEADS[3]), expected_version=0, actor=ADMIN)
    finally:
        await first.stop()
        await second.stop()

    restarted = _log(kafka_bootstrap, topic, stream_id)
    await restarted.start()
    try:
        assert restarted.version == 2
        assert restarted.state == first.state
    finally:
        await restarted.stop()


async def _until(predicate: Callable[[], bool], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the replicas did not agree in time")
