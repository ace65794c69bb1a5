"""What machine a benchmark ran on, printed with its figures."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime


def describe() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu = next(line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line)
    except (OSError, StopIteration):
        pass
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    postgres = subprocess.run(
        ["/usr/lib/postgresql/15/bin/postgres", "--version"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores ({cpu}); "
        f"{memory_gib:.0f} GiB; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; {postgres or 'PostgreSQL ?'}"
    )
