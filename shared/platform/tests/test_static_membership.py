"""How a worker is named as a Kafka static member (issue #13; why in
:func:`helpdesk_platform.faust_worker.static_member_id` and ``_stable_member_url``).

A restarted static member gets its previous assignment back as it was, so what Faust and
aiokafka check in that assignment must not change across restarts of one release: the member's
URL (Faust asserts it is its own), and the topics it subscribes to (a release that changes them
must join as a new member so that the group rebalances). The restart itself, on the real Kafka,
is in ``services/*/tests/integration`` (the SLA worker's restart test, the assignment worker's
crash tests).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import faust

from helpdesk_platform import faust_worker


def settings(port: int, group_instance_id: str | None, data_dir: Path) -> Any:
    return SimpleNamespace(
        app_id="static-test",
        kafka_bootstrap="127.0.0.1:9",
        data_dir=data_dir,
        topic_partitions=2,
        topic_replication_factor=1,
        session_timeout=30.0,
        http_host="127.0.0.1",
        http_port=port,
        log_level="INFO",
        preload_min_lag=0,
        group_instance_id=group_instance_id,
    )


def app_on(port: int, group_instance_id: str | None, data_dir: Path) -> faust.App:
    return faust_worker.create_app(settings(port, group_instance_id, data_dir), ["/healthz"])


def test_a_static_members_url_is_the_same_on_any_port(tmp_path: Path) -> None:
    first = app_on(8002, "sla-service-0", tmp_path)
    restarted = app_on(40123, "sla-service-0", tmp_path)
    assert str(first.conf.canonical_url) == str(restarted.conf.canonical_url)
    assert str(first.conf.canonical_url) == "http://sla-service-0"
    assert first.conf.consumer_group_instance_id == "sla-service-0"
    # A dynamic member keeps Faust's default (host and port): it always gets a new assignment.
    dynamic = app_on(40123, None, tmp_path)
    assert dynamic.conf.canonical_url.port == 40123
    assert dynamic.conf.consumer_group_instance_id is None


def topology(app: faust.App, sources: tuple[str, ...], tables: tuple[str, ...]) -> None:
    topic = faust_worker.raw_topic(app, *sources, partitions=2)

    @app.agent(topic, name="reader")
    async def reader(stream: Any) -> None:
        async for _ in stream:  # pragma: no cover - never started here
            pass

    for name in tables:
        app.Table(name, default=None, partitions=2)


def test_the_member_id_names_the_replica_and_what_it_consumes(tmp_path: Path) -> None:
    release = app_on(8002, "sla-service-0", tmp_path)
    topology(release, ("helpdesk.tickets.v1",), ("state",))
    assert faust_worker.subscribed_topics(release) == [
        "helpdesk.tickets.v1",
        "static-test-state-changelog",
    ]
    member = faust_worker.static_member_id(release, "sla-service-0")
    assert member.startswith("sla-service-0-")

    same_release = app_on(40123, "sla-service-0", tmp_path)  # restarted, another port
    topology(same_release, ("helpdesk.tickets.v1",), ("state",))
    assert faust_worker.static_member_id(same_release, "sla-service-0") == member

    new_source = app_on(8002, "sla-service-0", tmp_path)
    topology(new_source, ("helpdesk.tickets.v1", "helpdesk.sla.v1"), ("state",))
    new_table = app_on(8002, "sla-service-0", tmp_path)
    topology(new_table, ("helpdesk.tickets.v1",), ("state", "more"))
    ids = {
        member,
        faust_worker.static_member_id(new_source, "sla-service-0"),
        faust_worker.static_member_id(new_table, "sla-service-0"),
    }
    assert len(ids) == 3
    # Another replica of the same release is another member.
    assert faust_worker.static_member_id(release, "sla-service-1") != member
