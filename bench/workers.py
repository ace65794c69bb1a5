"""For the worker benchmarks: a private Kafka, a worker subprocess, waiting for a condition."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import httpx

from helpdesk_devstack.kafka import LocalKafka
from helpdesk_devstack.paths import StackPaths
from helpdesk_devstack.worker_process import WorkerProcess


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def private_kafka(home: Path, heap: str) -> LocalKafka:
    """A one-broker KRaft Kafka of the stack's jars under ``home`` (started)."""
    kafka = LocalKafka(
        home / "kafka", free_port(), free_port(), heap, libs=StackPaths.discover().kafka_libs
    )
    kafka.start()
    return kafka


class Worker(WorkerProcess):
    """``python -m <module> worker`` (see :class:`WorkerProcess`), with its memory and CPU."""

    def rss_mib(self) -> float:
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        return int(match.group(1)) / 1024 if match else float("nan")

    def cpu_seconds(self) -> float:
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        return self.proc

    async def ready(self) -> bool:
        try:
            async with httpx.AsyncClient(timeout=1.0) as client:
                return (await client.get(f"{self.url}/readyz")).status_code == 200
        except httpx.HTTPError:
            return False


async def until(condition: object, limit: float, what: str) -> float:
    """Seconds until ``condition`` (a value, a callable or a coroutine function) is true."""
    began = time.monotonic()
    while True:
        value = condition() if callable(condition) else condition
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return time.monotonic() - began
        if time.monotonic() - began > limit:
            raise TimeoutError(f"{what}: not within {limit:.0f} s")
        await asyncio.sleep(0.1)
