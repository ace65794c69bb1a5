"""Pytest fixtures for real Kafka and PostgreSQL (registered through the ``pytest11`` entry point).

Where each server comes from (DESIGN.md §5), in this order:

1. the environment: ``HELPDESK_KAFKA_BOOTSTRAP`` / ``HELPDESK_DATABASE_URL`` are used as given;
2. testcontainers (``apache/kafka:4.3.1``, ``postgres:15``) when a Docker daemon answers;
3. local processes (:class:`LocalKafka`, :class:`LocalPostgres`) in a temporary directory on free
   ports, so that a test run never collides with a ``make up`` stack on 9092/5432.

``HELPDESK_TEST_INFRA=local|docker|auto`` (default auto) forces step 2 or 3. Servers the session
starts are stopped at its end. One line per server says where it came from, for the CI logs.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest

from helpdesk_devstack.errors import DevstackError
from helpdesk_devstack.greenmail import (
    LocalGreenMail,
    MailServer,
    greenmail_installed,
    install_greenmail,
)
from helpdesk_devstack.imap_starttls import (
    ImapStartTlsFront,
    LocalImapStartTlsFront,
    Misbehaviour,
)
from helpdesk_devstack.kafka import (
    KAFKA_IMAGE,
    LocalKafka,
    ensure_topics,
    find_java,
    install,
    libs_installed,
    wait_for_kafka,
)
from helpdesk_devstack.paths import StackPaths
from helpdesk_devstack.postgres import (
    LocalPostgres,
    create_database,
    database_dsn,
    drop_database,
)
from helpdesk_devstack.procs import free_port, run_sync, start_watchdog
from helpdesk_devstack.submission import LocalSubmissionServer, SubmissionServer
from helpdesk_devstack.tls import TlsFiles
from helpdesk_devstack.tokens import ensure_dev_keys

POSTGRES_IMAGE = "postgres:15"
_TEST_HEAP = "512m"


class PrivateKafkaFactory(Protocol):
    def __call__(self, *, topics: bool = True, heap: str = "384m") -> LocalKafka: ...


MakeDatabase = Callable[[str], str]


# --- helpers ------------------------------------------------------------------------------------


def _announce(config: pytest.Config, message: str) -> None:
    """A line in the terminal output even under output capture (CI logs must show it)."""
    line = f"[helpdesk-devstack] {message}"
    reporter: Any = config.pluginmanager.get_plugin("terminalreporter")
    capture: Any = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        print(line, flush=True)
        return
    # Fixture setup runs under output capture: step out of it, as `capsys.disabled()` does.
    with capture.global_and_fixture_disabled():
        reporter.ensure_newline()
        reporter.write_line(line)


def _infra_mode() -> str:
    mode = os.environ.get("HELPDESK_TEST_INFRA", "auto").strip().lower() or "auto"
    if mode not in {"auto", "local", "docker"}:
        raise DevstackError(
            f"HELPDESK_TEST_INFRA={mode!r} is not one of auto, local, docker",
            "unset it or pick one of those",
        )
    return mode


_docker_answer: bool | None = None


def docker_available() -> bool:
    """Whether a Docker daemon answers (checked once, with a short timeout)."""
    global _docker_answer  # a per-process cache of a slow probe
    if _docker_answer is None:
        _docker_answer = _probe_docker()
    return _docker_answer


def _probe_docker() -> bool:
    # A docker client without a daemon is common (this project's machines): ask the daemon.
    if (
        shutil.which("docker") is None
        and not os.environ.get("DOCKER_HOST")
        and not Path("/var/run/docker.sock").exists()
    ):
        return False
    try:
        import docker  # testcontainers' dependency

        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # any failure means "no usable daemon"
        return False


def _use_docker() -> bool:
    mode = _infra_mode()
    if mode == "local":
        return False
    if mode == "docker":
        if not docker_available():
            raise DevstackError(
                "HELPDESK_TEST_INFRA=docker but no Docker daemon answers",
                "start Docker, or use HELPDESK_TEST_INFRA=auto/local",
            )
        return True
    return docker_available()


def _temp_dir(prefix: str) -> Path:
    # Not pytest's tmp_path_factory: its root is 0700 and PostgreSQL runs as another user.
    return Path(tempfile.mkdtemp(prefix=prefix))


def _ensure_kafka_libs(paths: StackPaths) -> None:
    """Jars present, or installed now (idempotent, a few seconds when Maven is there)."""
    if libs_installed(paths.kafka_libs, paths.pom):
        return
    install(paths.pom, paths.kafka_libs)


# --- Kafka --------------------------------------------------------------------------------------


def _start_kafka_container() -> tuple[str, Callable[[], None]]:
    from testcontainers.core.container import DockerContainer

    # The advertised address must be the one clients dial: bind the same free port on both sides.
    port = free_port()
    container = DockerContainer(KAFKA_IMAGE)
    host = "localhost"
    with contextlib.suppress(Exception):  # some connection modes only know it after start
        host = container.get_container_host_ip()
    env = {
        "KAFKA_NODE_ID": "1",
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_LISTENERS": f"PLAINTEXT://0.0.0.0:{port},CONTROLLER://0.0.0.0:9093",
        "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://{host}:{port}",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
        "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": "1",
        "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
        "KAFKA_HEAP_OPTS": f"-Xmx{_TEST_HEAP} -Xms{_TEST_HEAP}",
    }
    for key, value in env.items():
        container.with_env(key, value)
    container.with_bind_ports(port, port)
    container.start()
    bootstrap = f"{host}:{port}"
    try:
        run_sync(wait_for_kafka(bootstrap, 120.0))
    except BaseException:
        container.stop()
        raise
    return bootstrap, container.stop


def _start_postgres_container() -> tuple[str, Callable[[], None]]:
    try:  # testcontainers >= 4.14 (the old module path still works there, with a warning)
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:  # 4.8 ... 4.13
        from testcontainers.postgres import PostgresContainer  # type: ignore[no-redef,unused-ignore]

    container = PostgresContainer(
        POSTGRES_IMAGE,
        username="postgres",
        password="postgres",  # noqa: S106 - a throwaway container on loopback
        dbname="postgres",
        driver=None,
    )
    container.start()
    return container.get_connection_url(), container.stop


@pytest.fixture(scope="session")
def kafka_bootstrap(request: pytest.FixtureRequest) -> Iterator[str]:
    """Bootstrap servers of a Kafka with every helpdesk topic (``all_topics()``) created."""
    config = request.config
    env = os.environ.get("HELPDESK_KAFKA_BOOTSTRAP")
    stop: Callable[[], None] | None = None
    if env:
        bootstrap = env
        _announce(config, f"kafka {bootstrap} (from HELPDESK_KAFKA_BOOTSTRAP)")
    elif _use_docker():
        began = time.monotonic()
        bootstrap, stop = _start_kafka_container()
        took = time.monotonic() - began
        _announce(config, f"kafka {bootstrap} (testcontainers {KAFKA_IMAGE}, {took:.1f}s)")
    else:
        paths = StackPaths.discover()
        _ensure_kafka_libs(paths)
        home = _temp_dir("helpdesk-kafka-")
        controller = free_port()
        kafka = LocalKafka(
            home,
            free_port(exclude=[controller]),
            controller,
            _TEST_HEAP,
            libs=paths.kafka_libs,
        )
        start_watchdog(kafka.pid_path, home)
        took = kafka.start()
        bootstrap = kafka.bootstrap
        _announce(
            config,
            f"kafka {kafka.bootstrap} (local process pid {kafka.pid}, {took:.1f}s, "
            f"log {kafka.log_path})",
        )

        def stop() -> None:
            kafka.stop(grace=15.0)
            shutil.rmtree(home, ignore_errors=True)

    try:
        report = ensure_topics(bootstrap)
        if report.created:
            _announce(config, f"kafka topics created: {', '.join(report.created)}")
        yield bootstrap
    finally:
        if stop is not None:
            stop()


@pytest.fixture
def private_kafka_factory(request: pytest.FixtureRequest) -> Iterator[PrivateKafkaFactory]:
    """Start a NEW Kafka of the test's own (free ports, temp dir) that it may kill and restart.

    ``kafka.kill()`` / ``kafka.stop()`` / ``kafka.start()`` keep its ports and data. Skips the test
    when Java or the Kafka jars cannot be had. They are killed when the test ends: kept to the end
    of the session, each idle broker's JVM took its share of the two cores from every later test
    (CI saw a Kafka take 154 s to start late in the suite).
    """
    started: list[tuple[LocalKafka, Path]] = []

    def factory(*, topics: bool = True, heap: str = "384m") -> LocalKafka:
        try:
            find_java()
            paths = StackPaths.discover()
            _ensure_kafka_libs(paths)
        except DevstackError as error:
            pytest.skip(f"no private Kafka possible: {error}")
        home = _temp_dir("helpdesk-private-kafka-")
        controller = free_port()
        kafka = LocalKafka(
            home, free_port(exclude=[controller]), controller, heap, libs=paths.kafka_libs
        )
        started.append((kafka, home))
        start_watchdog(kafka.pid_path, home)
        took = kafka.start()
        _announce(
            request.config,
            f"private kafka {kafka.bootstrap} (local process pid {kafka.pid}, {took:.1f}s)",
        )
        if topics:
            ensure_topics(kafka.bootstrap)
        return kafka

    try:
        yield factory
    finally:
        for kafka, home in started:
            kafka.kill()  # its data is thrown away: no need for a controlled shutdown
            shutil.rmtree(home, ignore_errors=True)


# --- PostgreSQL ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server_dsn(request: pytest.FixtureRequest) -> Iterator[str]:
    """DSN of a server's ``postgres`` database, with the right to CREATE DATABASE."""
    config = request.config
    env = os.environ.get("HELPDESK_DATABASE_URL")
    if env:
        _announce(config, f"postgres {_redacted(env)} (from HELPDESK_DATABASE_URL)")
        yield env
        return
    if _use_docker():
        began = time.monotonic()
        dsn, stop = _start_postgres_container()
        took = time.monotonic() - began
        _announce(
            config, f"postgres {_redacted(dsn)} (testcontainers {POSTGRES_IMAGE}, {took:.1f}s)"
        )
        try:
            yield dsn
        finally:
            stop()
        return
    home = _temp_dir("helpdesk-pg-")
    server = LocalPostgres(home / "data", free_port())
    start_watchdog(server.data_dir / "postmaster.pid", home)
    try:
        took = server.start()
        _announce(
            config,
            f"postgres {server.dsn()} (local process pid {server.pid}, {took:.1f}s, "
            f"log {server.log_path})",
        )
        yield server.dsn()
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def make_database(postgres_server_dsn: str) -> Iterator[MakeDatabase]:
    """``make_database("tickets")`` creates a fresh, uniquely named database and returns its DSN."""
    created: list[str] = []

    def make(prefix: str) -> str:
        clean = re.sub(r"[^a-z0-9_]+", "_", prefix.lower()).strip("_") or "test"
        name = f"{clean[:40]}_{uuid.uuid4().hex[:12]}"
        create_database(postgres_server_dsn, name)
        created.append(name)
        return database_dsn(postgres_server_dsn, name)

    yield make
    # A shared server (HELPDESK_DATABASE_URL) should not fill up with test databases; a server this
    # session started is thrown away whole, but dropping is cheap enough to do the same everywhere.
    for name in created:
        try:
            drop_database(postgres_server_dsn, name)
        except Exception:  # noqa: S112 - cleanup is best effort (the server may be gone)
            continue


# --- mail ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def running_greenmail(
    config: pytest.Config, *, tls: TlsFiles | None = None
) -> Iterator[MailServer]:
    """A GreenMail on free ports until the block ends; with ``tls`` also SMTPS and IMAPS
    presenting that certificate."""
    paths = StackPaths.discover()
    if not greenmail_installed(paths.greenmail_libs, paths.greenmail_pom):
        install_greenmail(paths.greenmail_pom, paths.greenmail_libs)
    home = _temp_dir("helpdesk-greenmail-")
    smtp = free_port()
    imap = free_port(exclude=[smtp])
    api = free_port(exclude=[smtp, imap])
    smtps = free_port(exclude=[smtp, imap, api]) if tls else 0
    imaps = free_port(exclude=[smtp, imap, api, smtps]) if tls else 0
    server = LocalGreenMail(
        home, smtp_port=smtp, imap_port=imap, api_port=api, libs=paths.greenmail_libs,
        tls=tls, smtps_port=smtps, imaps_port=imaps,
    )  # fmt: skip
    start_watchdog(server.pid_path, home)
    try:
        took = server.start()
        secured = f" smtps {smtps} imaps {imaps}" if tls else ""
        _announce(
            config,
            f"greenmail smtp {smtp} imap {imap}{secured} api {api} (local process pid "
            f"{server.pid}, {took:.1f}s, log {server.log_path})",
        )
        yield server.server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(home, ignore_errors=True)


@contextlib.contextmanager
def running_submission_server(
    config: pytest.Config, *, tls: TlsFiles, relay_to: MailServer, login: str, password: str
) -> Iterator[SubmissionServer]:
    """A STARTTLS submission server on a free port until the block ends: it presents ``tls``,
    takes only ``login``/``password`` and relays what it accepts into ``relay_to``'s SMTP
    (:mod:`helpdesk_devstack.submission`: GreenMail has no SMTP STARTTLS)."""
    home = _temp_dir("helpdesk-submission-")
    server = LocalSubmissionServer(
        home, port=free_port(), tls=tls, relay_to=relay_to, login=login, password=password
    )
    start_watchdog(server.pid_path, home)
    try:
        took = server.start()
        _announce(
            config,
            f"starttls submission {server.server.port} relaying to smtp {relay_to.smtp_port} "
            f"(local process pid {server.pid}, {took:.1f}s, log {server.log_path})",
        )
        yield server.server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(home, ignore_errors=True)


@contextlib.contextmanager
def running_imap_starttls_front(
    config: pytest.Config,
    *,
    tls: TlsFiles,
    relay_to: MailServer,
    plain: bool = False,
    misbehaviour: Misbehaviour | None = None,
) -> Iterator[ImapStartTlsFront]:
    """An IMAP STARTTLS front on a free port until the block ends: it presents ``tls`` after
    STARTTLS and relays to ``relay_to``'s plain IMAP (:mod:`helpdesk_devstack.imap_starttls`:
    GreenMail has no IMAP STARTTLS); ``plain``: it offers no STARTTLS and relays everything;
    ``misbehaviour``: it acts as that hostile or broken STARTTLS server."""
    home = _temp_dir("helpdesk-imap-starttls-")
    front = LocalImapStartTlsFront(
        home, port=free_port(), tls=tls, relay_to=relay_to, plain=plain, misbehaviour=misbehaviour
    )
    start_watchdog(front.pid_path, home)
    try:
        took = front.start()
        mode = "plain (no STARTTLS)" if plain else f"STARTTLS {misbehaviour or ''}".strip()
        _announce(
            config,
            f"imap {mode} front {front.server.port} relaying to imap {relay_to.imap_port} "
            f"(local process pid {front.pid}, {took:.1f}s, log {front.log_path})",
        )
        yield front.server
    finally:
        try:
            front.stop()
        finally:
            shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def mail_server(request: pytest.FixtureRequest) -> Iterator[MailServer]:
    """A real SMTP + IMAP server (GreenMail, local process on free ports) for this session.

    Every address has a mailbox (log in with the address, any password); the support mailbox
    ``support@helpdesk.local`` exists from the start. ``helpdesk_devstack.mailbox`` sends and
    reads mail on it.
    """
    with running_greenmail(request.config) as server:
        yield server


# --- JWT ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def dev_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(private_pem_path, public_pem_path)`` of a fresh RS256 key pair for this session."""
    return ensure_dev_keys(tmp_path_factory.mktemp("jwt"))


def _redacted(dsn: str) -> str:
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", dsn)
