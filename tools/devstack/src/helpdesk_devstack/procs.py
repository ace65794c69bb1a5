"""Processes, pid files, ports and log tails: plumbing shared by Kafka, PostgreSQL and the apps."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from helpdesk_devstack.errors import DevstackError

T = TypeVar("T")


# --- running coroutines from sync code ----------------------------------------------------------


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code.

    Inside a running event loop (an async test calling ``LocalKafka.start()``) ``asyncio.run`` is
    not allowed, so the coroutine then gets a private loop in a worker thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


# --- ports --------------------------------------------------------------------------------------


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something listens on (or holds) ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        if probe.connect_ex((host, port)) == 0:
            return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR: a port left in TIME_WAIT by a process we just killed is free to reuse (the
        # JVM and PostgreSQL set it too); only a live listener or binder makes bind fail.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            return error.errno == errno.EADDRINUSE
    return False


def who_listens(port: int) -> str:
    """A short description of the process listening on ``port`` (best effort, via ``ss``)."""
    try:
        out = subprocess.run(  # noqa: S603 - fixed argv
            ["ss", "-Htlnp", f"sport = :{port}"],  # noqa: S607 - ss is looked up on PATH on purpose
            capture_output=True,
            text=True,
            timeout=3,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown process"
    if not out:
        return "unknown process"
    first = out.splitlines()[0]
    if "users:(" in first:
        return first[first.index("users:(") :]
    return " ".join(first.split()[3:5]) or "unknown process"


def ensure_port_free(port: int, service: str, env_var: str) -> None:
    if port_in_use(port):
        raise DevstackError(
            f"{service}: port {port} is in use ({who_listens(port)})",
            f"stop that process or set {env_var} to another port",
        )


def free_port(exclude: Sequence[int] = ()) -> int:
    """A currently free loopback port chosen by the kernel (tests run beside a `make up` stack)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in exclude:
            return port
    raise DevstackError("could not find a free TCP port on 127.0.0.1")


# --- processes ----------------------------------------------------------------------------------


def _proc_start_time(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot (field 22 of /proc/PID/stat), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":  # a zombie has exited; only its parent has not reaped it yet
        return None
    return int(fields[19])


def pid_alive(pid: int) -> bool:
    return _proc_start_time(pid) is not None


@dataclass(frozen=True)
class PidRecord:
    """What a pid file holds: the pid plus its start time, so that a recycled pid is not mistaken
    for our process after a reboot or a crash."""

    pid: int
    start_time: int | None
    argv: list[str]

    def alive(self) -> bool:
        now = _proc_start_time(self.pid)
        return now is not None and (self.start_time is None or now == self.start_time)


def write_pid_file(path: Path, pid: int, argv: Sequence[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"pid": pid, "start_time": _proc_start_time(pid), "argv": list(argv)}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record))
    tmp.replace(path)


def read_pid_file(path: Path) -> PidRecord | None:
    try:
        raw = json.loads(path.read_text())
        return PidRecord(int(raw["pid"]), raw.get("start_time"), list(raw.get("argv", [])))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def live_pid(path: Path) -> int | None:
    """The pid in ``path`` if that process still runs; a stale pid file is removed."""
    record = read_pid_file(path)
    if record is None:
        return None
    if record.alive():
        return record.pid
    path.unlink(missing_ok=True)
    return None


def spawn(
    argv: Sequence[str],
    log_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` detached: its own session (Ctrl-C in the terminal does not reach it, so the
    stack stops things in order), stdin closed, stdout+stderr appended to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(  # noqa: S603 - argv comes from our own config, no shell
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )


def _signal(pid: int, sig: signal.Signals, group: bool) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if group:
            # The process leads its own session: signal the whole group (e.g. uvicorn workers).
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def _wait_gone(pid: int, popen: subprocess.Popen[bytes] | None, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen is not None:
            if popen.poll() is not None:  # also reaps it, so no zombie lingers
                return True
        elif not pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


def terminate(
    pid: int,
    *,
    grace: float = 10.0,
    popen: subprocess.Popen[bytes] | None = None,
    group: bool = False,
) -> bool:
    """SIGTERM, then SIGKILL after ``grace`` seconds. Returns True when it had to SIGKILL."""
    _signal(pid, signal.SIGTERM, group)
    if _wait_gone(pid, popen, grace):
        return False
    _signal(pid, signal.SIGKILL, group)
    _wait_gone(pid, popen, 10.0)
    return True


def kill_now(
    pid: int, *, popen: subprocess.Popen[bytes] | None = None, group: bool = False
) -> None:
    _signal(pid, signal.SIGKILL, group)
    if not _wait_gone(pid, popen, 10.0):
        raise DevstackError(f"process {pid} survived SIGKILL for 10 s")


# --- logs ---------------------------------------------------------------------------------------


class PidFileProcess:
    """A server process we start and find again through its pid file (Kafka, GreenMail).

    A second instance on the same pid file sees the running process, so ``start()`` can be
    idempotent across CLI invocations; ``stop()`` is a controlled shutdown and ``kill()`` a crash.
    Subclasses set ``pid_path``, ``_display_name`` and ``_stop_grace``.
    """

    _display_name = "process"
    _stop_grace = 10.0

    def __init__(self, progress: Callable[[str], None]) -> None:
        self._progress = progress
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def pid_path(self) -> Path:
        raise NotImplementedError

    @property
    def pid(self) -> int | None:
        return live_pid(self.pid_path)

    def is_running(self) -> bool:
        if self._popen is not None and self._popen.poll() is not None:
            self._popen = None  # reaped: it exited (or was killed)
        return self.pid is not None

    def _spawn(
        self,
        argv: Sequence[str],
        log_path: Path,
        cwd: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._popen = spawn(argv, log_path, cwd=cwd, env=env)
        write_pid_file(self.pid_path, self._popen.pid, argv)

    def stop(self, grace: float | None = None) -> None:
        """SIGTERM; SIGKILL when it takes longer than ``grace`` seconds."""
        grace = self._stop_grace if grace is None else grace
        pid = self.pid
        if pid is not None and terminate(pid, grace=grace, popen=self._popen):
            self._progress(
                f"{self._display_name} (pid {pid}) ignored SIGTERM for {grace:.0f}s: killed"
            )
        self._popen = None
        self.pid_path.unlink(missing_ok=True)

    def kill(self) -> None:
        """SIGKILL, as a crash would: the next ``start()`` recovers from the same data."""
        pid = self.pid
        if pid is not None:
            kill_now(pid, popen=self._popen)
        self._popen = None
        self.pid_path.unlink(missing_ok=True)


def tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a log file ('' when it does not exist)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 256 * 1024))  # a tail never needs more than the end
            kept = deque(handle.read().decode("utf-8", "replace").splitlines(), maxlen=lines)
    except OSError:
        return ""
    return "\n".join(kept)


def indent_tail(path: Path, lines: int = 30) -> str:
    text = tail(path, lines)
    if not text:
        return f"  (log {path} is empty or missing)"
    body = "\n".join(f"    {line}" for line in text.splitlines())
    return f"  last {lines} lines of {path}:\n{body}"


def start_watchdog(pid_file: Path, directory: Path) -> None:
    """Make sure the server whose pid ``pid_file`` names dies, and ``directory`` goes, when this
    process dies without cleaning up (see :mod:`helpdesk_devstack._watchdog`)."""
    subprocess.Popen(  # noqa: S603 - our own module, fixed argv
        [
            sys.executable,
            "-m",
            "helpdesk_devstack._watchdog",
            str(os.getpid()),
            str(pid_file),
            str(directory),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
