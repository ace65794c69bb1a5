"""A service worker run as a subprocess for tests: ``python -m <module> worker`` on a port.

The Faust workers' integration tests start, kill (``kill -9``), restart and stop their worker
as the operator would; this is that process, with its output in a log file that every start
appends to (a failure shows both runs).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

__all__ = ["WorkerProcess", "worker_env"]


def worker_env(
    prefix: str, app_id: str, port: int, data_dir: Path, kafka_bootstrap: str, public_key: Path
) -> dict[str, str]:
    """The environment of a Faust worker of its own (``HELPDESK_<prefix>_*``: app id, port,
    data directory, a short session timeout) on ``kafka_bootstrap``, verifying tokens with
    ``public_key``."""
    return {
        **os.environ,
        "HELPDESK_KAFKA_BOOTSTRAP": kafka_bootstrap,
        f"HELPDESK_{prefix}_APP_ID": app_id,
        f"HELPDESK_{prefix}_HTTP_PORT": str(port),
        f"HELPDESK_{prefix}_DATA_DIR": str(data_dir),
        f"HELPDESK_{prefix}_SESSION_TIMEOUT": "6",
        "HELPDESK_JWT_PUBLIC_KEY_FILE": str(public_key),
    }


class WorkerProcess:
    def __init__(self, module: str, env: Mapping[str, str], log_path: Path, port: int) -> None:
        self.module = module
        self.env = dict(env)
        self.log_path = log_path
        self.port = port
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 - this interpreter, a module of ours
                [sys.executable, "-m", self.module, "worker"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def wait_ready(self, within: float = 90.0) -> None:
        """Until ``/readyz`` answers 200; fails with the log's tail if the process exits."""
        deadline = time.monotonic() + within
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                assert self.proc is not None, "start() the worker first"
                assert self.proc.poll() is None, self.log_tail()
                try:
                    if (await client.get(f"{self.url}/readyz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError(f"worker not ready after {within}s\n{self.log_tail()}")

    def kill(self) -> None:
        """``kill -9``: no goodbye to the consumer group, nothing flushed."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]
