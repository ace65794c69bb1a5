"""Kill a test server whose owner died: ``python -m helpdesk_devstack._watchdog OWNER PIDFILE DIR``.

The pytest fixtures start Kafka and PostgreSQL in their own sessions (so that Ctrl-C reaches pytest
first and the teardown stops them in order). If pytest itself is SIGKILLed (a CI time limit), no
teardown runs and those servers would live on, holding memory and ports. This tiny process polls
the owner; once it is gone, it SIGKILLs whatever pid ``PIDFILE`` names (a LocalKafka pid file or
PostgreSQL's postmaster.pid) and deletes ``DIR``. Standard library only: it starts in milliseconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path


def _alive(pid: int) -> bool:
    """Running (a zombie counts as dead: its parent may never reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].split()[0] != "Z"


def _pid_in(pid_file: Path) -> int | None:
    try:
        text = pid_file.read_text()
    except OSError:
        return None
    try:
        return int(json.loads(text)["pid"])  # LocalKafka's JSON pid file
    except (ValueError, KeyError, TypeError):
        pass
    try:
        return int(text.splitlines()[0])  # postmaster.pid: the pid is the first line
    except (ValueError, IndexError):
        return None


def main(argv: list[str]) -> int:
    owner, pid_file, directory = int(argv[0]), Path(argv[1]), Path(argv[2])
    while _alive(owner):
        if not directory.exists():
            return 0  # the owner's teardown already removed everything
        time.sleep(0.5)
    pid = _pid_in(pid_file)
    if pid is not None and _alive(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
        for _ in range(100):
            if not _alive(pid):
                break
            time.sleep(0.1)
    shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
