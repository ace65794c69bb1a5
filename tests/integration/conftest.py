"""Fixtures for end-to-end tests: the services run as real processes on the real stack."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServiceProcess:
    """A service started with its real command line; logs kept for failure reports."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(argv, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_http(self, url: str, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited:\n{self.tail()}")
            try:
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"{self.name} not ready at {url} after {timeout}s:\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def terminate(self) -> None:
        """Ask it to stop (SIGTERM) without waiting: see :func:`running_services`."""
        if self.process.poll() is None:
            self.process.terminate()

    def stop(self) -> None:
        self.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self._log.close()


Start = Callable[[str, list[str], dict[str, str]], ServiceProcess]


@contextlib.contextmanager
def running_services(log_dir: Path) -> Iterator[Start]:
    """``start(name, ["-m", module, command], env)`` runs a service; every one started is stopped
    on exit, all asked at once (SIGTERM) and then each waited for."""
    started: list[ServiceProcess] = []

    def start(name: str, args: list[str], env: dict[str, str]) -> ServiceProcess:
        service = ServiceProcess(name, [sys.executable, *args], os.environ | env, log_dir)
        started.append(service)
        return service

    try:
        yield start
    finally:
        for service in started:
            service.terminate()
        for service in reversed(started):
            service.stop()


# Services live as long as what started them: a test's own end with the test, a module's with
# the module. (Kept to the session's end, the idle ones - each polling PostgreSQL and Kafka -
# added up to most of the two cores late in the suite, and CI saw a Kafka take 154 s to start.)


@pytest.fixture
def start_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Start]:
    """Services of one test, stopped when it ends."""
    with running_services(tmp_path_factory.mktemp("service-logs")) as start:
        yield start


@pytest.fixture(scope="module")
def start_module_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Start]:
    """Services a module's tests share, stopped after its last test."""
    with running_services(tmp_path_factory.mktemp("module-service-logs")) as start:
        yield start


@pytest.fixture(scope="session")
def start_session_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Start]:
    """Services of a stack several modules share (the gateway stack, the portals' stack)."""
    with running_services(tmp_path_factory.mktemp("session-service-logs")) as start:
        yield start


@pytest.fixture(scope="module")
def run_ticket_service(
    make_database: Callable[[str], str],
    kafka_bootstrap: str,
    dev_keys: tuple[Path, Path],
    start_module_service: Start,
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str], str]:
    """``run_ticket_service("fuzz")``: the ticket service's real process (``python -m
    ticket_service serve``) on a fresh database of that name and a free port; returns its URL."""
    from ticket_service.adapters.migrate import upgrade

    def run(name: str) -> str:
        database_url = make_database(name)
        upgrade(database_url)
        port = free_port()
        service = start_module_service(
            f"ticket-service-{name}",
            ["-m", "ticket_service", "serve"],
            {
                "HELPDESK_DATABASE_URL": database_url,
                "HELPDESK_KAFKA_BOOTSTRAP": kafka_bootstrap,
                "HELPDESK_JWT_PUBLIC_KEY_FILE": str(dev_keys[1]),
                "HELPDESK_HTTP_PORT": str(port),
                "HELPDESK_BLOB_DIR": str(tmp_path_factory.mktemp(f"blobs-{name}")),
            },
        )
        service.wait_http(f"http://127.0.0.1:{port}/readyz")
        return f"http://127.0.0.1:{port}"

    return run
