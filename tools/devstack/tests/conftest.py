"""Real servers for the devstack's own tests: one LocalPostgres and one LocalKafka per session, in
temporary directories on free ports (never the `make up` stack's 5432/9092)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpdesk_devstack.kafka import LocalKafka, find_java, install, libs_installed
from helpdesk_devstack.paths import StackPaths
from helpdesk_devstack.postgres import LocalPostgres, find_pg_bindir
from helpdesk_devstack.procs import free_port, start_watchdog


@pytest.fixture(scope="session")
def stack_paths() -> StackPaths:
    return StackPaths.discover()


@pytest.fixture(scope="session")
def local_postgres() -> Iterator[LocalPostgres]:
    find_pg_bindir()  # fails with the install hint when PostgreSQL is missing
    home = Path(tempfile.mkdtemp(prefix="devstack-test-pg-"))
    server = LocalPostgres(home / "data", free_port())
    start_watchdog(server.data_dir / "postmaster.pid", home)  # if pytest is killed
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def local_kafka(stack_paths: StackPaths) -> Iterator[LocalKafka]:
    find_java()
    if not libs_installed(stack_paths.kafka_libs, stack_paths.pom):
        install(stack_paths.pom, stack_paths.kafka_libs)
    home = Path(tempfile.mkdtemp(prefix="devstack-test-kafka-"))
    controller = free_port()
    kafka = LocalKafka(home, free_port(exclude=[controller]), controller, "384m")
    start_watchdog(kafka.pid_path, home)
    kafka.start()
    try:
        yield kafka
    finally:
        kafka.stop()
        shutil.rmtree(home, ignore_errors=True)
