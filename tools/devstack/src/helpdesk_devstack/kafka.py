"""Apache Kafka for the local stack: jars from Maven Central, one KRaft node on loopback.

``install()`` copies the jars pinned by ``tools/devstack/kafka/pom.xml`` into
``<repo>/.local/kafka/libs``; :class:`LocalKafka` formats a storage directory once and runs
``kafka.Kafka`` (broker and controller in one JVM) on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.resources
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from helpdesk_devstack.errors import DevstackError
from helpdesk_devstack.maven import Progress, install_jars, jars_installed
from helpdesk_devstack.procs import (
    PidFileProcess,
    ensure_port_free,
    indent_tail,
    port_in_use,
    run_sync,
)
from helpdesk_events.topics import TopicSpec, all_topics

#: The one Kafka version of the project: local jars, docker-compose image and Strimzi resource.
KAFKA_VERSION = "4.3.1"
#: The same version as a container image, for testcontainers and docker-compose.
KAFKA_IMAGE = f"apache/kafka:{KAFKA_VERSION}"
#: Kafka 4.x brokers need Java 17 or newer.
MIN_JAVA = 17

_KAFKA_JAR = "kafka_2.13-*.jar"
_JAVA_FIX = "apt-get install openjdk-17-jre-headless (or put a Java 17+ `java` on PATH)"


def _quiet(_: str) -> None:
    return None


# --- Java, Maven and the jars -------------------------------------------------------------------


def find_java() -> str:
    """Path of a ``java`` of version 17+ (``JAVA_HOME`` first, then PATH)."""
    java_home = os.environ.get("JAVA_HOME")
    candidates = [str(Path(java_home) / "bin" / "java")] if java_home else []
    on_path = shutil.which("java")
    if on_path:
        candidates.append(on_path)
    for java in candidates:
        if not Path(java).is_file():
            continue
        version = java_major_version(java)
        if version is not None and version >= MIN_JAVA:
            return java
        raise DevstackError(
            f"{java} is Java {version or '?'}, Kafka {KAFKA_VERSION} needs Java {MIN_JAVA}+",
            _JAVA_FIX,
        )
    raise DevstackError("java not found (Kafka runs on the JVM)", _JAVA_FIX)


def java_major_version(java: str) -> int | None:
    try:
        out = subprocess.run(  # noqa: S603 - fixed argv
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    # `openjdk version "17.0.15" 2025-04-15` (old JVMs say "1.8.0_...")
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def libs_installed(libs_dir: Path, pom: Path | None = None) -> bool:
    """True when ``libs_dir`` holds the Kafka jars (copied from ``pom`` if it is given)."""
    return jars_installed(libs_dir, _KAFKA_JAR, pom)


def install(pom: Path, libs_dir: Path, *, progress: Progress = _quiet) -> bool:
    """Copy the Kafka jars that ``pom`` pins into ``libs_dir`` with Maven (idempotent).

    Returns True when it downloaded/copied, False when the jars were already there.
    """
    find_java()  # fail early with the install hint: jars are useless without a JVM
    return install_jars(
        pom, libs_dir, marker=_KAFKA_JAR, what=f"Kafka {KAFKA_VERSION}", progress=progress
    )


def _log4j2_config() -> str:
    return (
        importlib.resources.files("helpdesk_devstack")
        .joinpath("resources/log4j2.properties")
        .read_text(encoding="utf-8")
    )


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def _new_cluster_id() -> str:
    # Kafka's Uuid.toString(): URL-safe base64 of 16 random bytes, without padding. Like Kafka's
    # Uuid.randomUuid(), never one starting with "-": the format tool would take it for an option.
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


# --- readiness ----------------------------------------------------------------------------------


async def fetch_cluster_metadata(bootstrap: str, max_wait: float = 5.0) -> dict[str, Any]:
    """One metadata round trip through aiokafka's admin client (raises when it fails)."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(max_wait * 1000)
    )
    try:
        async with asyncio.timeout(max_wait):
            await admin.start()
            cluster: dict[str, Any] = await admin.describe_cluster()
    finally:
        await admin.close()
    if not cluster.get("brokers"):
        raise KafkaError("the metadata lists no broker yet")
    return cluster


async def wait_for_kafka(
    bootstrap: str,
    max_wait: float = 90.0,
    *,
    progress: Progress = _quiet,
    alive: Callable[[], bool] = lambda: True,
    log_path: Path | None = None,
) -> float:
    """Wait until ``bootstrap`` answers a metadata request; returns the seconds waited.

    ``alive`` lets the caller abort early when the broker process died.
    """
    start = time.monotonic()
    next_note = start + 5.0
    last_error = "no answer yet"
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    while True:
        elapsed = time.monotonic() - start
        if not alive():
            raise DevstackError(
                f"Kafka exited during start ({bootstrap})",
                "read the log below; `python -m helpdesk_devstack logs kafka` shows more",
                indent_tail(log_path) if log_path else None,
            )
        # A plain TCP probe first: aiokafka logs an ERROR for every refused connection.
        if port_in_use(int(port), host or "127.0.0.1"):
            try:
                await fetch_cluster_metadata(bootstrap, max_wait=5.0)
                return time.monotonic() - start
            except (TimeoutError, KafkaError, OSError) as error:
                last_error = f"{type(error).__name__}: {error}"
        else:
            last_error = "connection refused"
        if elapsed > max_wait:
            raise DevstackError(
                f"Kafka at {bootstrap} was not ready after {max_wait:.0f}s ({last_error})",
                "read the log below; a slow machine may need a longer timeout",
                indent_tail(log_path) if log_path else None,
            )
        if time.monotonic() >= next_note:
            progress(f"waiting for Kafka at {bootstrap} ({elapsed:.0f}s, {last_error})")
            next_note += 5.0
        await asyncio.sleep(0.25)


# --- the broker ---------------------------------------------------------------------------------


class LocalKafka(PidFileProcess):
    """One Kafka node (KRaft broker + controller in one JVM) whose state lives in ``home``.

    ``home`` holds ``server.properties``, ``log4j2.properties``, ``data/`` (topic logs and the
    metadata log), ``kafka.log`` (stdout+stderr) and ``kafka.pid``. A second instance on the same
    ``home`` sees the running process through the pid file, so ``start()`` is idempotent across
    CLI invocations. ``kill()`` then ``start()`` restarts on the same ports and data.
    """

    _display_name = "Kafka"
    _stop_grace = 30.0

    def __init__(
        self,
        home: Path,
        port: int = 9092,
        controller_port: int = 9093,
        heap: str = "512m",
        *,
        libs: Path | None = None,
        port_env_var: str = "HELPDESK_KAFKA_PORT",
        controller_port_env_var: str = "HELPDESK_KAFKA_CONTROLLER_PORT",
        progress: Progress = _quiet,
    ) -> None:
        if port == controller_port:
            raise DevstackError(
                f"Kafka port and controller port are both {port}",
                "set HELPDESK_KAFKA_PORT and HELPDESK_KAFKA_CONTROLLER_PORT to different ports",
            )
        self.home = Path(home).resolve()
        self.port = port
        self.controller_port = controller_port
        self.heap = heap
        self._libs = libs
        self._port_env_var = port_env_var
        self._controller_port_env_var = controller_port_env_var
        super().__init__(progress)

    # paths and addresses

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def libs(self) -> Path:
        if self._libs is None:
            from helpdesk_devstack.paths import default_kafka_libs

            self._libs = default_kafka_libs()
        return self._libs

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def config_path(self) -> Path:
        return self.home / "server.properties"

    @property
    def log_path(self) -> Path:
        return self.home / "kafka.log"

    @property
    def pid_path(self) -> Path:
        return self.home / "kafka.pid"

    # configuration

    def server_properties(self) -> dict[str, str]:
        replicated_once = "1"  # a single node: internal topics cannot have more replicas
        return {
            "process.roles": "broker,controller",
            "node.id": "1",
            # Static quorum: one voter, this node. Simpler than 4.x's dynamic `--standalone` and
            # nothing here ever adds a controller.
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": (
                f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}"
            ),
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            # Topics are created on purpose (ensure_topics) with their partitions and retention;
            # a typo in a topic name must fail, not create a stray topic.
            "auto.create.topics.enable": "false",
            "num.partitions": "1",
            "default.replication.factor": replicated_once,
            "min.insync.replicas": "1",
            "offsets.topic.replication.factor": replicated_once,
            "transaction.state.log.replication.factor": replicated_once,
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": replicated_once,
            "share.coordinator.state.topic.min.isr": "1",
            # 50 partitions per internal topic (the default) only slow the first group join or
            # transaction on a 2-core machine; one broker gains nothing from them.
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.num.partitions": "10",
            "share.coordinator.state.topic.num.partitions": "10",
            # Tests start consumer groups all the time: no 3 s wait for more members.
            "group.initial.rebalance.delay.ms": "0",
            # After a kill -9 the restarted node cannot register until the controller expires its
            # previous incarnation's session: 4 s instead of 9 s (heartbeats every second keep a
            # healthy node far from it; the node heartbeats to itself over loopback).
            "broker.session.timeout.ms": "4000",
            "broker.heartbeat.interval.ms": "1000",
            # The compaction buffer defaults to 128 MiB of a small heap; compacted internal topics
            # are tiny here.
            "log.cleaner.dedupe.buffer.size": str(32 * 1024 * 1024),
        }

    def _write_config(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        lines = ["# Written by helpdesk_devstack.LocalKafka; rewritten at every start."]
        lines += [f"{key}={value}" for key, value in self.server_properties().items()]
        self.config_path.write_text("\n".join(lines) + "\n")
        (self.home / "log4j2.properties").write_text(_log4j2_config())

    def _java_argv(self, java: str, heap: str, main: str, *args: str) -> list[str]:
        return [
            java,
            f"-Xmx{heap}",
            f"-Xms{heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            # Die (and be restarted by hand) rather than limp on after an OOM.
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={self.home / 'logs'}",
            "-cp",
            f"{self.libs}/*",
            main,
            *args,
        ]

    def _check_libs(self) -> None:
        if not libs_installed(self.libs):
            raise DevstackError(
                f"Kafka jars not found in {self.libs}",
                "run `make setup` or `python -m helpdesk_devstack install` (needs Maven)",
            )

    @property
    def _formatted_by_path(self) -> Path:
        return self.home / "formatted-by-version"

    def _check_data_version(self) -> None:
        """Refuse data written by a newer Kafka: brokers cannot be downgraded in place."""
        if not self._formatted_by_path.is_file():
            return
        formatted_by = self._formatted_by_path.read_text().strip()
        if _version_key(formatted_by) > _version_key(KAFKA_VERSION):
            raise DevstackError(
                f"the Kafka data in {self.data_dir} was written by Kafka {formatted_by}, "
                f"newer than the pinned {KAFKA_VERSION}, which cannot read it",
                f"remove {self.data_dir} (local Kafka data only: PostgreSQL keeps the event "
                "log, and the relay republishes it if you also reset its checkpoint) or pin "
                f"Kafka {formatted_by} again in tools/devstack/kafka/pom.xml",
            )

    def _format_storage(self, java: str) -> None:
        if (self.data_dir / "meta.properties").is_file():
            self._check_data_version()
            return  # formatted on an earlier start: formatting again would refuse anyway
        argv = self._java_argv(
            java,
            "256m",
            "kafka.tools.StorageTool",
            "format",
            "--config",
            str(self.config_path),
            "--cluster-id",
            _new_cluster_id(),
            "--ignore-formatted",
        )
        done = subprocess.run(  # noqa: S603 - fixed argv
            argv, capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            raise DevstackError(
                f"formatting Kafka storage in {self.data_dir} failed (exit {done.returncode})",
                f"delete {self.data_dir} to start from scratch, or read the output below",
                (done.stdout + done.stderr).strip(),
            )
        self._formatted_by_path.write_text(KAFKA_VERSION + "\n")

    # lifecycle

    def start(self, timeout: float = 240.0) -> float:
        """Start the node (format storage on first use) and wait until it serves metadata.

        Returns the seconds it took; 0.0 when it was already running. The timeout is a ceiling
        for a loaded machine (a JVM start once took 40 s before its first log line at a load of
        25); a healthy start returns in seconds.
        """
        if self.is_running():
            return 0.0
        began = time.monotonic()
        java = find_java()
        self._check_libs()
        ensure_port_free(self.port, "Kafka", self._port_env_var)
        ensure_port_free(self.controller_port, "Kafka controller", self._controller_port_env_var)
        self._write_config()
        self._format_storage(java)
        argv = self._java_argv(java, self.heap, "kafka.Kafka", str(self.config_path))
        with self.log_path.open("a") as log:
            log.write(f"\n===== starting Kafka {KAFKA_VERSION} at {time.ctime()} =====\n")
        self._spawn(argv, self.log_path, cwd=self.home)
        try:
            self.wait_ready(max(1.0, timeout - (time.monotonic() - began)))
        except BaseException:
            self.kill()  # never leave a half-started broker holding the ports
            raise
        return time.monotonic() - began

    def wait_ready(self, timeout: float = 90.0) -> None:
        run_sync(self.wait_ready_async(timeout))

    async def wait_ready_async(self, max_wait: float = 90.0) -> None:
        await wait_for_kafka(
            self.bootstrap,
            max_wait,
            progress=self._progress,
            alive=self.is_running,
            log_path=self.log_path,
        )

    def __repr__(self) -> str:
        return f"LocalKafka({self.bootstrap}, home={self.home}, pid={self.pid})"


# --- topics -------------------------------------------------------------------------------------


@dataclass
class TopicReport:
    """What :func:`ensure_topics` found and did."""

    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    #: topic -> (partitions it has, partitions the spec asks for); never changed automatically,
    #: because adding partitions re-maps keys to partitions.
    partition_mismatch: dict[str, tuple[int, int]] = field(default_factory=dict)


async def ensure_topics_async(
    bootstrap: str,
    specs: Sequence[TopicSpec] | None = None,
    *,
    replication_factor: int = 1,
    max_wait: float = 60.0,
) -> TopicReport:
    """Create the topics in ``specs`` (default: every helpdesk topic) that do not exist yet.

    Idempotent: an existing topic is left as it is (a partition count different from the spec is
    reported, not changed). Returns once every partition of every topic has a leader, so that
    producing right after works.
    """
    wanted = list(all_topics() if specs is None else specs)
    report = TopicReport()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        missing = [spec for spec in wanted if spec.name not in existing]
        report.existing = [spec.name for spec in wanted if spec.name in existing]
        if missing:
            response = await admin.create_topics(
                [
                    NewTopic(
                        name=spec.name,
                        num_partitions=spec.partitions,
                        replication_factor=replication_factor,
                        topic_configs=spec.config(),
                    )
                    for spec in missing
                ],
                timeout_ms=int(max_wait * 1000),
            )
            for topic_error in response.topic_errors:
                name, code = topic_error[0], topic_error[1]
                message = topic_error[2] if len(topic_error) > 2 else ""
                if code == 0:
                    report.created.append(name)
                elif for_code(code) is TopicAlreadyExistsError:
                    report.existing.append(name)  # another process won the race: fine
                else:
                    raise DevstackError(
                        f"creating topic {name} on {bootstrap} failed: "
                        f"{for_code(code).__name__} {message or ''}".rstrip(),
                        "check the broker log; the topic spec is in helpdesk_events.topics",
                    )
        await _wait_for_leaders(admin, wanted, report, max_wait)
    finally:
        await admin.close()
    return report


async def _wait_for_leaders(
    admin: AIOKafkaAdminClient, wanted: Sequence[TopicSpec], report: TopicReport, max_wait: float
) -> None:
    names = [spec.name for spec in wanted]
    if not names:
        return
    by_name = {spec.name: spec for spec in wanted}
    deadline = time.monotonic() + max_wait
    while True:
        topics = await admin.describe_topics(names)
        pending = []
        for topic in topics:
            partitions = topic.get("partitions", [])
            leaderless = topic.get("error_code", 0) != 0 or any(
                p.get("leader", -1) < 0 for p in partitions
            )
            if leaderless:
                pending.append(topic["topic"])
                continue
            want = by_name[topic["topic"]].partitions
            if len(partitions) != want:
                report.partition_mismatch[topic["topic"]] = (len(partitions), want)
        if not pending:
            return
        if time.monotonic() > deadline:
            raise DevstackError(
                f"topics without a partition leader after {max_wait:.0f}s: {', '.join(pending)}",
                "check the broker log",
            )
        await asyncio.sleep(0.2)


def ensure_topics(
    bootstrap: str,
    specs: Sequence[TopicSpec] | None = None,
    *,
    replication_factor: int = 1,
    timeout: float = 60.0,
) -> TopicReport:
    """Synchronous :func:`ensure_topics_async` (usable from inside a running event loop too)."""
    return run_sync(
        ensure_topics_async(
            bootstrap, specs, replication_factor=replication_factor, max_wait=timeout
        )
    )
