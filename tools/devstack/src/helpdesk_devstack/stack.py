"""The whole local stack: PostgreSQL, Kafka, then the app processes of ``stack.toml``.

State lives in ``<repo>/.local/``: ``postgres/`` (data dir, log, socket), ``kafka/`` (jars, data,
log), ``run/`` (pid files of the apps), ``log/`` (one log per app) and ``jwt/`` (dev key pair).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from helpdesk_devstack.errors import DevstackError
from helpdesk_devstack.greenmail import (
    GREENMAIL_VERSION,
    SUPPORT_ADDRESS,
    SUPPORT_PASSWORD,
    LocalGreenMail,
    install_greenmail,
)
from helpdesk_devstack.kafka import KAFKA_VERSION, LocalKafka, ensure_topics, find_java, install
from helpdesk_devstack.paths import StackPaths
from helpdesk_devstack.postgres import LocalPostgres, find_pg_bindir
from helpdesk_devstack.procs import (
    indent_tail,
    live_pid,
    spawn,
    tail,
    terminate,
    write_pid_file,
)
from helpdesk_devstack.settings import StackSettings
from helpdesk_devstack.tokens import ensure_dev_keys, ensure_mail_reply_key

Out = Callable[[str], None]

_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
_KEYS = {"name", "command", "env", "health", "pre", "database", "stop_grace"}
#: Names that `logs NAME` understands besides the apps.
INFRA_NAMES = ("postgres", "kafka", "greenmail")


# --- stack.toml ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppSpec:
    """One application process of ``stack.toml``."""

    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    health: str | None = None
    pre: list[list[str]] = field(default_factory=list)
    #: Database the process uses (HELPDESK_DATABASE_URL); the stack's default when None.
    database: str | None = None
    stop_grace: float = 10.0


def _fail(path: Path, message: str) -> DevstackError:
    return DevstackError(f"{path}: {message}", "fix the file; its header comment shows the format")


def _str_list(path: Path, where: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise _fail(path, f"{where} must be a non-empty list of strings, got {value!r}")
    return list(value)


def load_stack_file(path: Path) -> list[AppSpec]:
    """Parse and validate ``stack.toml`` (a missing file means: no app processes)."""
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise _fail(path, f"not valid TOML: {error}") from error
    unknown_top = set(data) - {"process"}
    if unknown_top:
        raise _fail(path, f"unknown top-level keys {sorted(unknown_top)} (only [[process]])")
    specs: list[AppSpec] = []
    for index, raw in enumerate(data.get("process", [])):
        where = f"[[process]] #{index + 1}"
        if not isinstance(raw, dict):
            raise _fail(path, f"{where} must be a table")
        unknown = set(raw) - _KEYS
        if unknown:
            raise _fail(path, f"{where}: unknown keys {sorted(unknown)} (allowed: {sorted(_KEYS)})")
        name = raw.get("name")
        if not isinstance(name, str) or not _NAME.match(name) or name in INFRA_NAMES:
            raise _fail(path, f"{where}: name must match [a-z][a-z0-9-]* and not be postgres/kafka")
        if any(spec.name == name for spec in specs):
            raise _fail(path, f"{where}: duplicate name {name!r}")
        env = raw.get("env", {})
        if not isinstance(env, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in env.items()
        ):
            raise _fail(path, f"{name}: env must be a table of strings")
        health = raw.get("health")
        if health is not None and (not isinstance(health, str) or not health.startswith("http")):
            raise _fail(path, f"{name}: health must be an http(s) URL")
        pre = raw.get("pre", [])
        if not isinstance(pre, list):
            raise _fail(path, f"{name}: pre must be a list of commands (lists of strings)")
        database = raw.get("database")
        if database is not None and (
            not isinstance(database, str) or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", database)
        ):
            raise _fail(path, f"{name}: database must be a plain identifier")
        grace = raw.get("stop_grace", 10.0)
        if not isinstance(grace, int | float) or grace <= 0:
            raise _fail(path, f"{name}: stop_grace must be a positive number of seconds")
        specs.append(
            AppSpec(
                name=name,
                command=_str_list(path, f"{name}: command", raw.get("command")),
                env=dict(env),
                health=health,
                pre=[_str_list(path, f"{name}: pre", command) for command in pre],
                database=database,
                stop_grace=float(grace),
            )
        )
    return specs


# --- the stack ----------------------------------------------------------------------------------


#: How a one-shot command names the file that keeps a password it must not print (#15).
_PASSWORD_IN = re.compile(r"password in (\S+)$")


class _Stop(Exception):
    """SIGTERM during `run`: handled like Ctrl-C."""


class Stack:
    def __init__(
        self,
        paths: StackPaths,
        settings: StackSettings,
        *,
        out: Out = print,
        python: str = sys.executable,
    ) -> None:
        self.paths = paths
        self.settings = settings
        self.out = out
        self.python = python
        self.postgres = LocalPostgres(
            paths.postgres_data,
            settings.postgres_port,
            log_path=paths.postgres_home / "postgres.log",
            progress=self._note,
        )
        self.kafka = LocalKafka(
            paths.kafka_home,
            settings.kafka_port,
            settings.kafka_controller_port,
            settings.kafka_heap,
            libs=paths.kafka_libs,
            progress=self._note,
        )
        self.greenmail = LocalGreenMail(
            paths.greenmail_home,
            smtp_port=settings.smtp_port,
            imap_port=settings.imap_port,
            api_port=settings.greenmail_api_port,
            libs=paths.greenmail_libs,
            progress=self._note,
        )
        self._popens: dict[str, subprocess.Popen[bytes]] = {}
        self._log_offsets: dict[str, int] = {}

    def _note(self, message: str) -> None:
        self.out(f"     {message}")

    @property
    def apps(self) -> list[AppSpec]:
        return load_stack_file(self.paths.stack_file)

    # env and placeholders

    def database_url(self, database: str | None = None) -> str:
        return self.postgres.dsn(database or self.settings.database_name)

    def _placeholders(self, spec: AppSpec) -> dict[str, str]:
        return {
            "{python}": self.python,
            "{repo}": str(self.paths.repo),
            "{local}": str(self.paths.local),
            "{kafka_bootstrap}": self.kafka.bootstrap,
            "{database_url}": self.database_url(spec.database),
        }

    def expand(self, spec: AppSpec, value: str) -> str:
        # Plain replacement of the known placeholders: other braces pass through untouched.
        for key, replacement in self._placeholders(spec).items():
            value = value.replace(key, replacement)
        return value

    def app_env(self, spec: AppSpec) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "HELPDESK_KAFKA_BOOTSTRAP": self.kafka.bootstrap,
                "HELPDESK_DATABASE_URL": self.database_url(spec.database),
                "HELPDESK_JWT_PUBLIC_KEY_FILE": str(self.paths.jwt / "public.pem"),
                "HELPDESK_HOME": str(self.paths.repo),
                "HELPDESK_SMTP_HOST": self.greenmail.server.host,
                "HELPDESK_SMTP_PORT": str(self.greenmail.server.smtp_port),
                "HELPDESK_IMAP_HOST": self.greenmail.server.host,
                "HELPDESK_IMAP_PORT": str(self.greenmail.server.imap_port),
                # Log lines reach .local/log/<name>.log as they happen, not at exit.
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update({key: self.expand(spec, value) for key, value in spec.env.items()})
        return env

    def log_path(self, name: str) -> Path:
        if name == "postgres":
            return self.postgres.log_path
        if name == "kafka":
            return self.kafka.log_path
        if name == "greenmail":
            return self.greenmail.log_path
        return self.paths.log_file(name)

    # install

    def install(self) -> None:
        began = time.monotonic()
        fetched = install(self.paths.pom, self.paths.kafka_libs, progress=self._note)
        took = f"fetched in {time.monotonic() - began:.1f}s" if fetched else "already installed"
        self.out(f"[ok] kafka {KAFKA_VERSION} jars in {self._rel(self.paths.kafka_libs)} ({took})")
        began = time.monotonic()
        fetched = install_greenmail(
            self.paths.greenmail_pom, self.paths.greenmail_libs, progress=self._note
        )
        took = f"fetched in {time.monotonic() - began:.1f}s" if fetched else "already installed"
        where = self._rel(self.paths.greenmail_libs)
        self.out(f"[ok] greenmail {GREENMAIL_VERSION} jar in {where} ({took})")
        self.out(f"[ok] java {find_java()}")
        self.out(f"[ok] postgresql binaries in {find_pg_bindir()}")

    def _rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.paths.repo))
        except ValueError:
            return str(path)

    # up

    def up(self, *, infra_only: bool = False) -> None:
        """Start whatever is not running yet; report what already runs."""
        self.paths.local.mkdir(parents=True, exist_ok=True)
        self._start_postgres()
        self._start_kafka()
        self._start_greenmail()
        keys = ensure_dev_keys(self.paths.jwt)
        self.out(f"[ok] jwt dev keys {self._rel(keys[1])} (`make token ROLE=agent` mints a token)")
        reply_key = ensure_mail_reply_key(self.paths.local / "mail")
        self.out(f"[ok] mail reply key {self._rel(reply_key)} (agents answer notification mails)")
        if infra_only:
            return
        for spec in self.apps:
            self._start_app(spec)

    def _start_postgres(self) -> None:
        pid = self.postgres.pid
        if pid is not None:
            self.out(f"[ok] postgres {self.postgres.address} (already running, pid {pid})")
        else:
            took = self.postgres.start()
            self.out(f"[ok] postgres {self.postgres.address} ({took:.1f}s)")
        wanted = {self.settings.database_name} | {s.database for s in self.apps if s.database}
        for name in sorted(wanted):
            created = self.postgres.create_database(name)
            self.out(f"[ok] database {name} ({'created' if created else 'exists'})")

    def _start_kafka(self) -> None:
        pid = self.kafka.pid
        if pid is not None:
            self.out(f"[ok] kafka {self.kafka.bootstrap} (already running, pid {pid})")
        else:
            install(self.paths.pom, self.paths.kafka_libs, progress=self._note)
            took = self.kafka.start()
            self.out(f"[ok] kafka {KAFKA_VERSION} {self.kafka.bootstrap} ({took:.1f}s)")
        report = ensure_topics(self.kafka.bootstrap)
        self.out(
            f"[ok] topics: {len(report.created) + len(report.existing)} "
            f"({len(report.created)} created)"
        )
        for topic, (have, want) in report.partition_mismatch.items():
            self.out(f"[!!] topic {topic} has {have} partitions, the spec says {want}")

    def _start_greenmail(self) -> None:
        server = self.greenmail.server
        pid = self.greenmail.pid
        if pid is not None:
            self.out(f"[ok] greenmail (already running, pid {pid})")
            return
        install_greenmail(self.paths.greenmail_pom, self.paths.greenmail_libs, progress=self._note)
        took = self.greenmail.start()
        self.out(
            f"[ok] greenmail {GREENMAIL_VERSION} smtp {server.host}:{server.smtp_port} "
            f"imap {server.host}:{server.imap_port} ({took:.1f}s); support mailbox "
            f"{SUPPORT_ADDRESS} / {SUPPORT_PASSWORD}, any other address with any password"
        )

    def _start_app(self, spec: AppSpec) -> None:
        pid_path = self.paths.pid_file(spec.name)
        pid = live_pid(pid_path)
        if pid is not None:
            self.out(f"[ok] {spec.name} (already running, pid {pid})")
            return
        log = self.paths.log_file(spec.name)
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log_offsets[spec.name] = log.stat().st_size if log.exists() else 0
        env = self.app_env(spec)
        for command in spec.pre:
            self._run_pre(spec, [self.expand(spec, part) for part in command], env, log)
        argv = [self.expand(spec, part) for part in spec.command]
        began = time.monotonic()
        with log.open("a") as handle:
            handle.write(f"\n===== {time.ctime()} starting: {' '.join(argv)}\n")
        popen = spawn(argv, log, env=env, cwd=self.paths.repo)
        self._popens[spec.name] = popen
        write_pid_file(pid_path, popen.pid, argv)
        try:
            self._wait_healthy(spec, popen, log)
        except BaseException:
            terminate(popen.pid, grace=spec.stop_grace, popen=popen, group=True)
            pid_path.unlink(missing_ok=True)
            raise
        what = spec.health or "running"
        self.out(f"[ok] {spec.name} pid {popen.pid} {what} ({time.monotonic() - began:.1f}s)")

    def _run_pre(self, spec: AppSpec, argv: list[str], env: dict[str, str], log: Path) -> None:
        began = time.monotonic()
        start_offset = log.stat().st_size if log.exists() else 0
        with log.open("a") as handle:
            handle.write(f"\n===== {time.ctime()} pre-start: {' '.join(argv)}\n")
            handle.flush()
            try:
                done = subprocess.run(  # noqa: S603 - argv from our own stack.toml
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=self.paths.repo,
                    timeout=600,
                    check=False,
                )
            except FileNotFoundError as error:
                raise DevstackError(f"{spec.name}: cannot run {argv[0]}: {error}") from error
            except subprocess.TimeoutExpired as error:
                raise DevstackError(
                    f"{spec.name}: `{' '.join(argv)}` still running after 10 minutes",
                    details=indent_tail(log),
                ) from error
        if done.returncode != 0:
            raise DevstackError(
                f"{spec.name}: pre-start command failed (exit {done.returncode}): {' '.join(argv)}",
                f"read the log below or {self._rel(log)}",
                indent_tail(log),
            )
        short = " ".join(argv[1:] if argv[0] == self.python else argv)
        self.out(f"[ok] {spec.name}: {short} ({time.monotonic() - began:.1f}s)")
        # A one-shot command's own "[ok] ..." lines are for the person running `make up` (the
        # API gateway's bootstrap prints the manager's sign-in there).
        with log.open("rb") as handle:
            handle.seek(start_offset)
            for line in handle.read().decode(errors="replace").splitlines():
                if line.startswith("[ok] "):
                    self.out(f"     {self.reveal_password(line[5:])}")

    def reveal_password(self, line: str) -> str:
        """The terminal, not the log, shows a password a one-shot command kept in a file of
        ``.local/`` (``... password in <file>``, #15): the operator reads it there once."""
        match = _PASSWORD_IN.search(line)
        if match is None:
            return line
        path = Path(match.group(1))
        path = path if path.is_absolute() else self.paths.repo / path
        if not path.resolve().is_relative_to(self.paths.local.resolve()) or not path.is_file():
            return line
        password = path.read_text().strip()
        return f"{line[: match.start()]}{password}  (kept in {self._rel(path)})"

    def _wait_healthy(self, spec: AppSpec, popen: subprocess.Popen[bytes], log: Path) -> None:
        deadline = time.monotonic() + (self.settings.health_timeout if spec.health else 1.5)
        next_note = time.monotonic() + 5.0
        last = "no answer yet"
        with httpx.Client(timeout=2.0) as client:
            while True:
                code = popen.poll()
                if code is not None:
                    raise DevstackError(
                        f"{spec.name} exited with code {code} during start",
                        f"read the log below or {self._rel(log)}",
                        indent_tail(log),
                    )
                if spec.health is None:
                    if time.monotonic() > deadline:
                        return  # no health URL: "still alive after a moment" is all we can check
                else:
                    try:
                        response = client.get(spec.health)
                        if response.status_code < 300:
                            return
                        last = f"HTTP {response.status_code}"
                    except httpx.HTTPError as error:
                        last = type(error).__name__
                    now = time.monotonic()
                    if now > deadline:
                        raise DevstackError(
                            f"{spec.name}: {spec.health} not healthy after "
                            f"{self.settings.health_timeout:.0f}s ({last})",
                            "read the log below; HELPDESK_HEALTH_TIMEOUT gives it longer",
                            indent_tail(log),
                        )
                    if now >= next_note:
                        self._note(f"waiting for {spec.health} ({last})")
                        next_note = now + 5.0
                time.sleep(0.2)

    # down

    def _pid_files(self) -> list[tuple[str, Path]]:
        """App pid files: stack.toml order first, then leftovers of removed entries."""
        try:
            names = [spec.name for spec in self.apps]
        except DevstackError:
            names = []  # a broken stack.toml must not prevent stopping what runs
        extra = sorted(p.stem for p in self.paths.run.glob("*.pid") if p.stem not in names)
        return [(name, self.paths.pid_file(name)) for name in [*names, *extra]]

    def _grace(self, name: str) -> float:
        try:
            return next((s.stop_grace for s in self.apps if s.name == name), 10.0)
        except DevstackError:
            return 10.0

    def down(self) -> None:
        """Stop the apps (TERM, KILL after their grace), then Kafka, then PostgreSQL."""
        for name, pid_path in reversed(self._pid_files()):
            pid = live_pid(pid_path)
            if pid is None:
                continue
            grace = self._grace(name)
            killed = terminate(pid, grace=grace, popen=self._popens.pop(name, None), group=True)
            pid_path.unlink(missing_ok=True)
            how = f"killed after {grace:.0f}s" if killed else "stopped"
            self.out(f"[ok] {name} {how} (pid {pid})")
        pid = self.greenmail.pid
        if pid is not None:
            self.greenmail.stop()
            self.out(f"[ok] greenmail stopped (pid {pid})")
        pid = self.kafka.pid
        if pid is not None:
            began = time.monotonic()
            self.kafka.stop()
            self.out(f"[ok] kafka stopped (pid {pid}, {time.monotonic() - began:.1f}s)")
        pid = self.postgres.pid
        if pid is not None:
            began = time.monotonic()
            self.postgres.stop()
            self.out(f"[ok] postgres stopped (pid {pid}, {time.monotonic() - began:.1f}s)")
        self.out("[ok] the local stack is stopped")

    # status and logs

    def status(self) -> list[tuple[str, str, str, str]]:
        """(name, state, pid, where) per component."""
        rows: list[tuple[str, str, str, str]] = []
        pg_pid = self.postgres.pid
        rows.append(
            (
                "postgres",
                "running" if pg_pid else "stopped",
                str(pg_pid or "-"),
                f"{self.postgres.address} {self.database_url()}",
            )
        )
        kafka_pid = self.kafka.pid
        kafka_state = "running" if kafka_pid else "stopped"
        rows.append(("kafka", kafka_state, str(kafka_pid or "-"), self.kafka.bootstrap))
        mail_pid = self.greenmail.pid
        mail = self.greenmail.server
        rows.append(
            (
                "greenmail",
                "running" if mail_pid else "stopped",
                str(mail_pid or "-"),
                f"smtp {mail.host}:{mail.smtp_port} imap {mail.host}:{mail.imap_port}",
            )
        )
        specs = {spec.name: spec for spec in self.apps}
        for name, pid_path in self._pid_files():
            pid = live_pid(pid_path)
            spec = specs.get(name)
            health = spec.health if spec else None
            state = "running" if pid else "stopped"
            if pid and health:
                state = "healthy" if _probe(health) else "unhealthy"
            rows.append((name, state, str(pid or "-"), health or ""))
        return rows

    def log_names(self) -> list[str]:
        return [*INFRA_NAMES, *(name for name, _ in self._pid_files())]

    def follow(
        self, names: list[str], *, from_start: dict[str, int] | None = None
    ) -> Iterator[str]:
        """Yield new lines of the logs of ``names`` as ``name | line``, forever (Ctrl-C ends)."""
        width = max((len(n) for n in names), default=0)
        colors = _Colors(sys.stdout.isatty())
        offsets: dict[str, int] = {}
        partial: dict[str, str] = {}
        for name in names:
            path = self.log_path(name)
            size = path.stat().st_size if path.exists() else 0
            offsets[name] = (from_start or {}).get(name, size)
        while True:
            quiet = True
            for index, name in enumerate(names):
                path = self.log_path(name)
                try:
                    with path.open("rb") as handle:
                        if path.stat().st_size < offsets[name]:
                            offsets[name] = 0  # truncated or replaced
                        handle.seek(offsets[name])
                        chunk = handle.read(1 << 20)
                except OSError:
                    continue
                if not chunk:
                    continue
                quiet = False
                offsets[name] += len(chunk)
                text = partial.pop(name, "") + chunk.decode("utf-8", "replace")
                *lines, rest = text.split("\n")
                if rest:
                    partial[name] = rest
                label = colors.paint(index, f"{name:<{width}} |")
                for line in lines:
                    yield f"{label} {line}"
            if quiet:
                yield ""  # lets the caller check process health between polls
                time.sleep(0.2)

    # run

    def run(self, *, infra_only: bool = False) -> int:
        """``up`` in the foreground: stream the apps' logs; Ctrl-C or SIGTERM stops everything."""

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            raise _Stop

        previous = signal.signal(signal.SIGTERM, on_sigterm)
        code = 0
        try:
            self.up(infra_only=infra_only)
            names = [] if infra_only else [spec.name for spec in self.apps]
            self.out(
                "[ok] the stack runs; Ctrl-C stops it. Logs: "
                f"{self._rel(self.paths.logs)}/, {self._rel(self.kafka.log_path)}, "
                f"{self._rel(self.postgres.log_path)}"
            )
            reported: set[str] = set()
            for line in self.follow(names, from_start=dict(self._log_offsets)):
                if line:
                    self.out(line)
                    continue
                for name in names:
                    if name not in reported and live_pid(self.paths.pid_file(name)) is None:
                        reported.add(name)
                        self.out(f"[!!] {name} is no longer running (see its log above)")
        except (KeyboardInterrupt, _Stop):
            self.out("\n[..] stopping the stack")
        except DevstackError as error:
            self.out(f"[fail] {error}")
            self.out("[..] stopping what was started")
            code = 1
        finally:
            signal.signal(signal.SIGTERM, previous)
            # A second Ctrl-C while stopping would leave half the stack running: ignore it.
            old_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                self.down()
            finally:
                signal.signal(signal.SIGINT, old_int)
        return code


def _probe(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code < 300
    except httpx.HTTPError:
        return False


class _Colors:
    _CODES = (36, 33, 35, 32, 34, 31)

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def paint(self, index: int, text: str) -> str:
        if not self.enabled:
            return text
        return f"\033[{self._CODES[index % len(self._CODES)]}m{text}\033[0m"


def tail_logs(stack: Stack, names: list[str], lines: int) -> Iterator[str]:
    for name in names:
        path = stack.log_path(name)
        yield f"==> {name}: {path} <=="
        yield tail(path, lines) or "(empty)"
