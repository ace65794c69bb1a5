"""LocalPostgres and LocalKafka against real processes: no mocks."""

from __future__ import annotations

import socket
import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from helpdesk_devstack.errors import DevstackError
from helpdesk_devstack.kafka import LocalKafka, ensure_topics, ensure_topics_async
from helpdesk_devstack.postgres import LocalPostgres, database_dsn
from helpdesk_devstack.procs import free_port, port_in_use
from helpdesk_devstack.pytest_plugin import PrivateKafkaFactory
from helpdesk_events.topics import TICKETS, TopicSpec, all_topics

pytestmark = pytest.mark.integration


# --- PostgreSQL ---------------------------------------------------------------------------------


async def test_postgres_creates_a_database_once_and_serves_it(
    local_postgres: LocalPostgres,
) -> None:
    name = f"devstack_{uuid.uuid4().hex[:8]}"
    assert local_postgres.create_database(name) is True
    assert local_postgres.create_database(name) is False  # idempotent

    connection = await asyncpg.connect(local_postgres.dsn(name))
    try:
        assert await connection.fetchval("SELECT current_database()") == name
        version = await connection.fetchval("SHOW server_version_num")
        assert version.startswith("15")
        settings = {
            key: await connection.fetchval(f"SHOW {key}")
            for key in ("max_connections", "shared_buffers", "fsync", "listen_addresses")
        }
    finally:
        await connection.close()
    assert settings == {
        "max_connections": "300",
        "shared_buffers": "256MB",
        "fsync": "on",  # benchmarks must be honest
        "listen_addresses": "127.0.0.1",
    }
    assert (
        local_postgres.dsn(name) == f"postgresql://postgres@127.0.0.1:{local_postgres.port}/{name}"
    )


def test_postgres_start_is_idempotent_and_refuses_a_busy_port(
    local_postgres: LocalPostgres, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert local_postgres.is_running()
    assert local_postgres.start() == 0.0  # already running: nothing to do

    other = LocalPostgres(local_postgres.data_dir.parent / "other" / "data", local_postgres.port)
    other.init()  # a second cluster is fine; its port is not
    with pytest.raises(DevstackError, match=rf"port {local_postgres.port} is in use") as caught:
        other.start()
    assert "HELPDESK_POSTGRES_PORT" in str(caught.value)


def test_database_dsn_keeps_credentials_and_query() -> None:
    server = "postgresql://app:s3cret@db.example:6543/postgres?sslmode=require"
    assert (
        database_dsn(server, "t_1") == "postgresql://app:s3cret@db.example:6543/t_1?sslmode=require"
    )


# --- Kafka --------------------------------------------------------------------------------------


async def test_ensure_topics_is_idempotent_with_the_specs_partitions(
    local_kafka: LocalKafka,
) -> None:
    first = await ensure_topics_async(local_kafka.bootstrap)
    second = ensure_topics(local_kafka.bootstrap)  # the sync form, from inside a running loop

    names = {spec.name for spec in all_topics()}
    assert set(first.created) | set(first.existing) == names
    assert second.created == []
    assert set(second.existing) == names
    assert second.partition_mismatch == {}

    admin = AIOKafkaAdminClient(bootstrap_servers=local_kafka.bootstrap)
    await admin.start()
    try:
        described = {t["topic"]: t for t in await admin.describe_topics(sorted(names))}
        configs = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, TICKETS, {"retention.ms": None})]
        )
    finally:
        await admin.close()
    for spec in all_topics():
        assert len(described[spec.name]["partitions"]) == spec.partitions, spec.name
    retention = {entry[0]: entry[1] for entry in configs[0].resources[0][4]}
    assert retention["retention.ms"] == "-1"  # fact streams are kept forever


async def test_ensure_topics_reports_a_partition_mismatch_without_changing_it(
    local_kafka: LocalKafka,
) -> None:
    name = f"devstack.mismatch.{uuid.uuid4().hex[:8]}"
    await ensure_topics_async(local_kafka.bootstrap, [TopicSpec(name, 2, -1, key="k")])
    report = await ensure_topics_async(local_kafka.bootstrap, [TopicSpec(name, 5, -1, key="k")])
    assert report.partition_mismatch == {name: (2, 5)}


async def test_kafka_produces_and_consumes_one_message(local_kafka: LocalKafka) -> None:
    await ensure_topics_async(local_kafka.bootstrap)
    key, value = uuid.uuid4().hex.encode(), b'{"hello": "kafka"}'
    producer = AIOKafkaProducer(bootstrap_servers=local_kafka.bootstrap, acks="all")
    await producer.start()
    try:
        sent = await producer.send_and_wait(TICKETS, value, key=key)
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(bootstrap_servers=local_kafka.bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partition = TopicPartition(TICKETS, sent.partition)
        consumer.assign([partition])
        consumer.seek(partition, sent.offset)
        message = await consumer.getone()
    finally:
        await consumer.stop()
    assert (message.key, message.value) == (key, value)


def test_auto_topic_creation_is_off(local_kafka: LocalKafka) -> None:
    assert local_kafka.server_properties()["auto.create.topics.enable"] == "false"
    assert local_kafka.is_running()
    assert local_kafka.start() == 0.0


def test_kafka_refuses_a_busy_port_with_a_clear_message(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        kafka = LocalKafka(tmp_path_factory.mktemp("busy"), port, free_port(exclude=[port]))
        with pytest.raises(DevstackError, match=rf"port {port} is in use") as caught:
            kafka.start()
    assert "HELPDESK_KAFKA_PORT" in str(caught.value)
    assert not kafka.is_running()


def test_kafka_refuses_data_written_by_a_newer_version(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Changing the pin back to an older Kafka must say what to do, not crash in the broker."""
    home = tmp_path_factory.mktemp("newer")
    port = free_port()
    kafka = LocalKafka(home, port, free_port(exclude=[port]))
    kafka.data_dir.mkdir(parents=True)
    (kafka.data_dir / "meta.properties").write_text("version=1\n")
    (home / "formatted-by-version").write_text("99.0.0\n")
    with pytest.raises(DevstackError, match=r"written by Kafka 99\.0\.0, newer than") as caught:
        kafka.start()
    assert f"remove {kafka.data_dir}" in str(caught.value)
    assert not kafka.is_running()


async def test_kill_9_and_restart_keeps_ports_topics_and_data(
    private_kafka_factory: PrivateKafkaFactory,
) -> None:
    kafka = private_kafka_factory()
    bootstrap = kafka.bootstrap
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        sent = await producer.send_and_wait(TICKETS, b"survives", key=b"t-1")
    finally:
        await producer.stop()

    kafka.kill()
    assert not kafka.is_running()
    assert not port_in_use(kafka.port)

    kafka.start()
    assert kafka.bootstrap == bootstrap
    report = await ensure_topics_async(bootstrap)
    assert report.created == []  # the topics came back from disk

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partition = TopicPartition(TICKETS, sent.partition)
        consumer.assign([partition])
        consumer.seek(partition, sent.offset)
        message = await consumer.getone()
    finally:
        await consumer.stop()
    assert message.value == b"survives"

    kafka.stop()
    assert not kafka.is_running()
