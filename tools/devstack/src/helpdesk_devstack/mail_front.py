"""What the small Python mail servers in front of GreenMail share.

GreenMail offers no STARTTLS (neither on SMTP nor on IMAP), so the tests put a server of their
own in front of it for that mode: the submission server of :mod:`helpdesk_devstack.submission`
and the IMAP front of :mod:`helpdesk_devstack.imap_starttls`. Each runs as a process of its own,
like GreenMail, so that the client under test and the server share no event loop, and both are
started, told where to listen and what to present, and read back in the same way:

- :class:`LocalMailFront`: one such process on loopback whose pid, log and record (JSON lines of
  what it saw) live in one home directory, started on a free port and waited for until it
  listens; the private key's passphrase goes through the environment, not the command line;
- :func:`front_arguments`, :func:`server_tls_context` and :func:`run_until_signalled`: the
  process's side of the same command line, its TLS context and its life until SIGTERM;
- :class:`RecordingFront`, :func:`append_record` and :func:`read_record`: where a running front
  listens and what it recorded.

Test stand-ins, never part of the product.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import ssl
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from helpdesk_devstack.errors import DevstackError
from helpdesk_devstack.greenmail import MailServer
from helpdesk_devstack.procs import PidFileProcess, ensure_port_free, indent_tail, port_in_use
from helpdesk_devstack.tls import TlsFiles

KEY_PASSWORD_ENV = "HELPDESK_MAIL_FRONT_KEY_PASSWORD"  # noqa: S105 - the variable's name


def read_record(record: Path) -> list[dict[str, Any]]:
    """The events a front wrote to ``record``, oldest first ([] before the first)."""
    try:
        lines = record.read_text().splitlines()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in lines if line.strip()]


def append_record(record: Path, event: dict[str, Any]) -> None:
    """Add ``event`` to ``record`` (one JSON line, written at once: a test may read it now)."""
    with record.open("a") as lines:
        lines.write(json.dumps(event) + "\n")


@dataclass(frozen=True, kw_only=True)
class RecordingFront:
    """Where a running front listens and the file of what it saw (a front adds what it was told
    to do: the login it takes, whether it offers STARTTLS, how it misbehaves)."""

    host: str
    port: int
    record: Path

    def events(self) -> list[dict[str, Any]]:
        """What the front recorded, oldest first (each front documents its events)."""
        return read_record(self.record)


class LocalMailFront(PidFileProcess):
    """One front process (``python -m <module>``) on loopback in front of ``relay_to``."""

    #: the front's module, run with ``python -m``; its last part names the log and pid files
    module: ClassVar[str]
    _stop_grace = 5.0

    def __init__(self, home: Path, *, port: int, tls: TlsFiles, relay_to: MailServer) -> None:
        self.home = Path(home).resolve()
        self.tls = tls
        self.relay_to = relay_to
        self.host = relay_to.host
        self.port = port
        self.record = self.home / "sessions.jsonl"
        super().__init__(lambda _: None)

    @property
    def _stem(self) -> str:
        return self.module.rsplit(".", 1)[-1]

    @property
    def log_path(self) -> Path:
        return self.home / f"{self._stem}.log"

    @property
    def pid_path(self) -> Path:
        return self.home / f"{self._stem}.pid"

    def relay_port(self) -> int:
        """Which of GreenMail's plain ports the front relays to."""
        raise NotImplementedError

    def more_arguments(self) -> list[str]:
        """The front's own command line options after the shared ones."""
        return []

    def secrets(self) -> dict[str, str]:
        """What the front is told through its environment besides the key's passphrase."""
        return {}

    def argv(self) -> list[str]:
        return [
            sys.executable, "-m", self.module,
            "--host", self.host,
            "--port", str(self.port),
            "--certificate", str(self.tls.certificate),
            "--key", str(self.tls.private_key),
            "--relay-host", self.relay_to.host,
            "--relay-port", str(self.relay_port()),
            "--record", str(self.record),
            *self.more_arguments(),
        ]  # fmt: skip

    def start(self, timeout: float = 60.0) -> float:
        """Start the front and wait until it listens; seconds taken."""
        if self.is_running():
            return 0.0
        began = time.monotonic()
        ensure_port_free(self.port, self._display_name, "(a free port is picked)")
        self.home.mkdir(parents=True, exist_ok=True)
        environment = {**os.environ, **self.secrets(), KEY_PASSWORD_ENV: self.tls.password}
        self._spawn(self.argv(), self.log_path, cwd=self.home, env=environment)
        try:
            while not port_in_use(self.port, self.host):
                if not self.is_running():
                    raise DevstackError(
                        f"the {self._display_name} exited during start",
                        "read the log below",
                        indent_tail(self.log_path),
                    )
                if time.monotonic() > began + timeout:
                    raise DevstackError(
                        f"the {self._display_name} did not listen on port {self.port}",
                        "read the log below",
                        indent_tail(self.log_path),
                    )
                time.sleep(0.05)
        except BaseException:
            self.kill()
            raise
        return time.monotonic() - began


# --- the front process's side -------------------------------------------------------------------


def front_arguments(description: str | None) -> argparse.ArgumentParser:
    """The command line :meth:`LocalMailFront.argv` gives (a front adds its own options)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--certificate", required=True, help="PEM certificate it presents")
    parser.add_argument("--key", required=True, help="PEM key, its passphrase in the environment")
    parser.add_argument("--relay-host", required=True, help="GreenMail's host")
    parser.add_argument("--relay-port", type=int, required=True, help="GreenMail's plain port")
    parser.add_argument("--record", required=True, help="JSON lines file of what it saw")
    return parser


def server_tls_context(arguments: argparse.Namespace) -> ssl.SSLContext:
    """The server side of TLS with the certificate and key the front was given."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(
        arguments.certificate, arguments.key, password=os.environ[KEY_PASSWORD_ENV]
    )
    return context


def run_until_signalled(
    serve: Callable[[argparse.Namespace, asyncio.Event], Awaitable[None]],
    arguments: argparse.Namespace,
) -> None:
    """Log at INFO (never DEBUG: a server library's debug lines could show a login) and run
    ``serve`` until SIGTERM or SIGINT sets its stop event."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await serve(arguments, stop)

    asyncio.run(run())
