"""How a Faust worker of the helpdesk is made and started, written once for every worker.

The SLA and the assignment worker run on the same Faust and share its fixes: records of their
source topics delivered in order and never skipped across a restart or rebalance
(:mod:`~helpdesk_platform.faust_delivery`, which includes :mod:`~helpdesk_platform.faust_seek`),
bounded fetch waits (:mod:`~helpdesk_platform.faust_fetch`) and tables in RocksDB on the
worker's data directory (:mod:`~helpdesk_platform.faust_tables`, the app's ``store=STORE``).

They also share how their app is configured (acks from every replica, the session timeout, the
web server serving only the worker's own routes) and how they start (logging, their own topics
created before the consumer joins the group, the data directory, Faust's worker in the
foreground). A worker passes only what differs: its settings, its routes, its topics, how it is
built and any Faust option of its own (:func:`create_app`, :func:`run_worker`).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import faust
from faust.web import Request, Response, View

from helpdesk_platform import (
    faust_delivery,
    faust_fetch,
    faust_preload,
    faust_tables,
    kafka_topics,
    telemetry,
)
from helpdesk_platform.faust_web import web_settings

__all__ = [
    "STORE",
    "WorkerSettings",
    "add_health_pages",
    "create_app",
    "prepare",
    "raw_topic",
    "run_worker",
    "static_member_id",
    "subscribed_topics",
]

#: The ``store`` of the workers' apps: RocksDB tables on the app's ``datadir``.
STORE = faust_tables.STORE


class WorkerSettings(Protocol):
    """The settings every worker has (each service's settings class has more)."""

    app_id: str
    kafka_bootstrap: str
    data_dir: Path
    topic_partitions: int
    topic_replication_factor: int
    session_timeout: float
    http_host: str
    http_port: int
    log_level: str
    group_instance_id: str | None
    preload_min_lag: int


class _HasApp(Protocol):
    @property
    def app(self) -> faust.App: ...


def prepare() -> None:
    """Install the fixes and the table store (idempotent); call before ``faust.App(...)``."""
    faust_delivery.install()
    faust_fetch.install()
    faust_tables.install()


def create_app(settings: WorkerSettings, paths: Iterable[str], **options: Any) -> faust.App:
    """The worker's Faust app, serving only ``paths`` on its HTTP port; ``options`` are the
    worker's own Faust settings (added to, or replacing, the common ones)."""
    prepare()  # records never skipped, short fetch waits, RocksDB (issue #13)
    common: dict[str, Any] = {
        "broker": f"kafka://{settings.kafka_bootstrap}",
        "store": STORE,
        "datadir": str(settings.data_dir),
        "topic_partitions": settings.topic_partitions,
        "topic_replication_factor": settings.topic_replication_factor,
        "topic_allow_declare": True,
        "table_standby_replicas": 0,
        "consumer_auto_offset_reset": "earliest",
        "producer_acks": -1,
        # Static membership: a restarted replica gets its partitions back at once (issue #13).
        "consumer_group_instance_id": settings.group_instance_id,
        **_stable_member_url(settings.group_instance_id),
        "broker_session_timeout": settings.session_timeout,
        "broker_heartbeat_interval": min(3.0, settings.session_timeout / 4),
        "web_enabled": True,
        "web_bind": settings.http_host,
        "web_port": settings.http_port,
        "web_in_thread": False,
        **web_settings(paths),
    }
    return faust.App(settings.app_id, **{**common, **options})


def _stable_member_url(group_instance_id: str | None) -> dict[str, Any]:
    """Faust's ``canonical_url`` for a static member: the same in every incarnation.

    Faust writes each member's URL (by default ``http://<host>:<web port>``) into the group's
    assignment, and on an assignment it checks that the URL there is its own
    (``assert metadata.url == str(self._url)`` in ``PartitionAssignor.on_assignment``). A static
    member that rejoins before its session timeout gets the assignment its previous incarnation
    was given, unchanged (Kafka does not rebalance for it): with a URL that differs (another
    port, another host) that assertion ends aiokafka's coordinator task and the worker never
    gets its partitions - the AssertionError seen with static membership (issue #13). The URL is
    only an identity here: Faust's router, which would call it, is off (:mod:`faust_web`).
    """
    if not group_instance_id:
        return {}
    return {"canonical_url": f"http://{group_instance_id}"}


def subscribed_topics(app: faust.App) -> list[str]:
    """The topics the worker's consumer subscribes to: its agents' sources and its tables'
    changelogs (what Faust subscribes once it starts), sorted."""
    names: set[str] = set()
    for agent in app.agents.values():
        names.update(getattr(agent.channel, "topics", ()))
    for table in app.tables.values():
        names.add(table.changelog_topic.get_topic_name())
    return sorted(names)


def static_member_id(app: faust.App, group_instance_id: str) -> str:
    """The Kafka ``group.instance.id`` of a worker: its replica's name and what it subscribes to.

    A static member that rejoins before its session timeout is given its previous assignment
    as it was, without a rebalance. After a release that changed what the worker consumes (a
    new source topic, a new table), that assignment would lack the new topic's partitions (or,
    for a topic no longer subscribed, make aiokafka's coordinator fail an assertion). With the
    topology's digest in the id, such a release joins as a new member and the group rebalances
    (once the old member's session timeout has passed); restarts of the same release rejoin at
    once.
    """
    digest = hashlib.sha256("\n".join(subscribed_topics(app)).encode()).hexdigest()[:8]
    return f"{group_instance_id}-{digest}"


def add_health_pages(app: faust.App, ready: Callable[[], bool], openapi: dict[str, Any]) -> None:
    """The pages every worker serves: ``/healthz`` (alive), ``/readyz`` (200 when ``ready()``,
    else 503 "starting") and ``/openapi.json`` (``openapi``)."""

    @app.page("/healthz")
    async def healthz(web: View, request: Request) -> Response:
        failure = group_membership_failure(app)
        if failure is not None:  # the pod's liveness probe restarts it
            return web.json({"status": "failed", "detail": failure}, status=503)
        return web.json({"status": "ok"})

    @app.page("/readyz")
    async def readyz(web: View, request: Request) -> Response:
        is_ready = ready()
        return web.json(
            {"status": "ready" if is_ready else "starting"}, status=200 if is_ready else 503
        )

    @app.page("/openapi.json")
    async def openapi_document(web: View, request: Request) -> Response:
        return web.json(openapi)


def group_membership_failure(app: faust.App) -> str | None:
    """Why the worker's Kafka consumer can no longer take part in its group, or None.

    aiokafka runs the group membership (join, sync, heartbeats) in one task; an error that is
    not a Kafka error (e.g. an AssertionError in its coordinator, seen once with static
    membership) ends that task for good, and the worker then stays up holding no partitions.
    ``/healthz`` reports it so that the orchestrator restarts the worker (issue #13).
    """
    # Faust's consumer (None until the worker made one) -> its consumer thread -> aiokafka's.
    thread = getattr(getattr(app, "_consumer", None), "_thread", None)
    consumer = getattr(thread, "_consumer", None)
    coordinator = getattr(consumer, "_coordinator", None)
    task = getattr(coordinator, "_coordination_task", None)
    if task is None or not task.done() or task.cancelled() or task.exception() is None:
        return None
    return f"Kafka group membership ended: {task.exception()!r}"


def raw_topic(app: faust.App, *names: str, partitions: int, internal: bool = False) -> Any:
    """A topic of raw bytes (envelopes are decoded by the service layer, not by Faust);
    ``internal`` topics are created by Faust with ``partitions``."""
    return app.topic(
        *names,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=partitions,
        internal=internal,
    )


def run_worker(
    service: str,
    settings: WorkerSettings,
    own_topics: Sequence[kafka_topics.TopicSpec],
    build: Callable[[], _HasApp],
) -> None:
    """Run a worker in the foreground until it is stopped (Ctrl-C, SIGTERM).

    Its own topics (internal topics, changelogs) exist before its consumer joins the group,
    created on the event loop that stays the current one for Faust; then the worker is built
    (``build``), its data directory made, and Faust's worker runs it.
    """
    telemetry.setup_logging(service, settings.log_level)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(kafka_topics.ensure_topics(settings.kafka_bootstrap, own_topics))
    worker = build()
    if settings.group_instance_id:
        worker.app.conf.consumer_group_instance_id = static_member_id(
            worker.app, settings.group_instance_id
        )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # An empty or far-behind data directory: the changelogs straight into RocksDB (issue #13).
    loop.run_until_complete(
        faust_preload.preload_tables(worker.app, settings.kafka_bootstrap, settings.preload_min_lag)
    )
    faust.Worker(
        worker.app, loglevel=settings.log_level, override_logging=False, quiet=True
    ).execute_from_commandline()
