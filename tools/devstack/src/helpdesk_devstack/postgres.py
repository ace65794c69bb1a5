"""PostgreSQL 15 for the local stack, from Debian's binaries (``/usr/lib/postgresql/15/bin``).

``initdb`` and the server refuse to run as root, so when we are root they run as the ``postgres``
user (``runuser -u postgres --``) on directories that user owns. The server listens on 127.0.0.1
only, with ``trust`` authentication: it is a developer's throwaway database, never exposed.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import pwd
import re
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from helpdesk_devstack.errors import DevstackError
from helpdesk_devstack.procs import ensure_port_free, indent_tail, pid_alive, run_sync

PG_MAJOR = 15
_PG_FIX = f"apt-get install postgresql-{PG_MAJOR} (or set HELPDESK_PG_BINDIR to its bin directory)"
_SERVICE_USER = "postgres"
_DB_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,62}$")

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def find_pg_bindir() -> Path:
    """``HELPDESK_PG_BINDIR``, else Debian's PostgreSQL 15, else ``pg_ctl`` on PATH."""
    env = os.environ.get("HELPDESK_PG_BINDIR")
    candidates = [Path(env)] if env else []
    candidates.append(Path(f"/usr/lib/postgresql/{PG_MAJOR}/bin"))
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for bindir in candidates:
        if all((bindir / tool).is_file() for tool in ("initdb", "pg_ctl", "pg_isready")):
            return bindir
    raise DevstackError(
        f"PostgreSQL {PG_MAJOR} server binaries (initdb, pg_ctl) not found "
        f"(looked in {', '.join(str(c) for c in candidates)})",
        _PG_FIX,
    )


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _service_ids() -> tuple[int, int]:
    try:
        entry = pwd.getpwnam(_SERVICE_USER)
    except KeyError:
        raise DevstackError(
            f"running as root but there is no `{_SERVICE_USER}` user to run PostgreSQL as "
            "(initdb refuses root)",
            f"{_PG_FIX} creates it; or run as a normal user",
        ) from None
    return entry.pw_uid, entry.pw_gid


def _pick_locale() -> str:
    """C.UTF-8 when the system has it: byte-order collation (fast, stable) yet upper()/ILIKE that
    understand non-ASCII names. Plain C otherwise."""
    try:
        out = subprocess.run(
            ["locale", "-a"],  # noqa: S607 - on PATH on purpose
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "C"
    names = {line.strip().lower().replace("-", "") for line in out.splitlines()}
    return "C.UTF-8" if "c.utf8" in names else "C"


class LocalPostgres:
    """A PostgreSQL cluster in ``data_dir`` listening on ``127.0.0.1:port``.

    Beside ``data_dir`` it keeps ``postgres.log`` and ``run/`` (the Unix socket). The data dir is
    initialised on the first ``start()``; later starts reuse it.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int = 5432,
        *,
        bindir: Path | None = None,
        log_path: Path | None = None,
        socket_dir: Path | None = None,
        port_env_var: str = "HELPDESK_POSTGRES_PORT",
        progress: Progress = _quiet,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self._bindir = bindir
        self.log_path = log_path or self.data_dir.parent / "postgres.log"
        self.socket_dir = socket_dir or self._default_socket_dir()
        self._port_env_var = port_env_var
        self._progress = progress

    def _default_socket_dir(self) -> Path:
        preferred = self.data_dir.parent / "run"
        # A Unix socket path must fit in 107 bytes: `<dir>/.s.PGSQL.<port>`.
        if len(str(preferred)) <= 80:
            return preferred
        digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"helpdesk-pg-{digest}"

    @property
    def bindir(self) -> Path:
        if self._bindir is None:
            self._bindir = find_pg_bindir()
        return self._bindir

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    # helpers

    def _as_service_user(self, argv: Sequence[str]) -> list[str]:
        if _running_as_root():
            return ["runuser", "-u", _SERVICE_USER, "--", *argv]
        return list(argv)

    def _run(self, argv: Sequence[str], timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - fixed argv
            self._as_service_user(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            # Own session: a Ctrl-C meant for `helpdesk_devstack run` must not reach the
            # postmaster that pg_ctl forks; the stack stops it last, in order.
            start_new_session=True,
            cwd="/",  # the service user may not be allowed into our working directory
        )

    def _give_to_service_user(self, *paths: Path) -> None:
        if not _running_as_root():
            return
        uid, gid = _service_ids()
        for path in paths:
            os.chown(path, uid, gid)

    def _make_ancestors_traversable(self) -> None:
        """The service user must be able to walk down to the data dir (e.g. a 0700 /tmp/xyz)."""
        if not _running_as_root():
            return
        for ancestor in reversed(self.data_dir.parents):
            mode = ancestor.stat().st_mode
            if not mode & stat.S_IXOTH:
                ancestor.chmod(mode | stat.S_IXOTH)  # search only, never read
                self._progress(f"made {ancestor} traversable (o+x) for the postgres user")

    def _prepare_dirs(self) -> None:
        for directory in (self.data_dir.parent, self.socket_dir):
            directory.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        self.data_dir.chmod(0o700)
        self.log_path.touch(exist_ok=True)
        self._make_ancestors_traversable()
        self._give_to_service_user(self.data_dir, self.socket_dir, self.log_path)

    # state

    def is_initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file()

    @property
    def pid(self) -> int | None:
        """The postmaster's pid from ``postmaster.pid`` if it is alive."""
        try:
            first = (self.data_dir / "postmaster.pid").read_text().splitlines()[0]
            pid = int(first)
        except (OSError, ValueError, IndexError):
            return None
        return pid if pid_alive(pid) else None

    def is_running(self) -> bool:
        return self.pid is not None

    # lifecycle

    def init(self) -> None:
        """``initdb`` once (no-op when the data dir is already initialised)."""
        self._prepare_dirs()
        if self.is_initialized():
            return
        if any(self.data_dir.iterdir()):
            raise DevstackError(
                f"{self.data_dir} is not empty but holds no PostgreSQL cluster",
                "empty or delete that directory",
            )
        done = self._run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.data_dir),
                "--auth=trust",
                "--username=postgres",
                "-E",
                "UTF8",
                f"--locale={_pick_locale()}",
                "--no-instructions",
            ]
        )
        if done.returncode != 0:
            raise DevstackError(
                f"initdb failed in {self.data_dir} (exit {done.returncode})",
                "read the output below; delete the data dir to retry from scratch",
                (done.stdout + done.stderr).strip(),
            )

    def _write_config(self) -> None:
        conf = self.data_dir / "helpdesk.conf"
        conf.write_text(
            "# Written by helpdesk_devstack.LocalPostgres at every start.\n"
            "listen_addresses = '127.0.0.1'\n"
            f"port = {self.port}\n"
            f"unix_socket_directories = '{self.socket_dir}'\n"
            "max_connections = 300\n"
            "shared_buffers = 256MB\n"
            # Durability stays on: the benchmarks measure what a real deployment would get.
            "fsync = on\n"
            "synchronous_commit = on\n"
            "full_page_writes = on\n"
            # Fewer forced checkpoints under benchmark write bursts (the default is 1GB).
            "max_wal_size = 2GB\n"
            "timezone = 'UTC'\n"
            "log_timezone = 'UTC'\n"
            "log_line_prefix = '%m [%p] %q%u@%d '\n"
        )
        self._give_to_service_user(conf)
        main_conf = self.data_dir / "postgresql.conf"
        include = "include_if_exists = 'helpdesk.conf'"
        text = main_conf.read_text()
        if include not in text:
            main_conf.write_text(text.rstrip("\n") + f"\n\n# helpdesk local stack\n{include}\n")

    def start(self, timeout: float = 60.0) -> float:
        """initdb on first use, then start and wait until it accepts connections.

        Returns the seconds it took; 0.0 when it was already running.
        """
        if self.is_running():
            return 0.0
        began = time.monotonic()
        self.init()
        ensure_port_free(self.port, "PostgreSQL", self._port_env_var)
        self._write_config()
        done = self._run(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_path),
                "-w",
                "-t",
                str(int(timeout)),
                "-s",
                "start",
            ],
            timeout=timeout + 30,
        )
        if done.returncode != 0:
            raise DevstackError(
                f"PostgreSQL failed to start on {self.address} (pg_ctl exit {done.returncode})",
                "read the log below",
                ((done.stdout + done.stderr).strip() + "\n" + indent_tail(self.log_path)).strip(),
            )
        self.wait_ready(max(1.0, timeout - (time.monotonic() - began)))
        return time.monotonic() - began

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        argv = [
            str(self.bindir / "pg_isready"),
            "-q",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            "postgres",
        ]
        while True:
            done = subprocess.run(argv, capture_output=True, timeout=30, check=False)  # noqa: S603
            if done.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise DevstackError(
                    f"PostgreSQL on {self.address} not ready after {timeout:.0f}s",
                    "read the log below",
                    indent_tail(self.log_path),
                )
            time.sleep(0.2)

    def stop(self, timeout: float = 60.0) -> None:
        """``pg_ctl stop -m fast`` (no-op when not running)."""
        if not self.is_running():
            return
        pg_ctl = str(self.bindir / "pg_ctl")
        base = [pg_ctl, "-D", str(self.data_dir), "-w", "-t", str(int(timeout)), "-s"]
        done = self._run([*base, "-m", "fast", "stop"], timeout=timeout + 30)
        if done.returncode != 0 and self.is_running():
            # Still up after the fast shutdown's timeout: immediate mode (crash recovery on the
            # next start, no data lost thanks to the WAL).
            self._run([*base, "-m", "immediate", "stop"], timeout=timeout + 30)
        if self.is_running():
            raise DevstackError(
                f"PostgreSQL on {self.address} did not stop",
                f"kill the postmaster (pid {self.pid}) by hand",
            )

    def crash(self, timeout: float = 60.0) -> None:
        """``pg_ctl stop -m immediate``: every server process ends at once, without a
        checkpoint, as in a crash; the next start runs crash recovery from the WAL (the chaos
        harness's PostgreSQL "kill", issue #13)."""
        if not self.is_running():
            return
        pg_ctl = str(self.bindir / "pg_ctl")
        argv = [pg_ctl, "-D", str(self.data_dir), "-w", "-t", str(int(timeout)), "-s"]
        self._run([*argv, "-m", "immediate", "stop"], timeout=timeout + 30)

    # databases

    def create_database(self, name: str) -> bool:
        """Create ``name`` unless it exists; returns True when it was created."""
        return create_database(self.dsn(), name)

    def drop_database(self, name: str) -> None:
        drop_database(self.dsn(), name)

    def __repr__(self) -> str:
        return f"LocalPostgres({self.address}, data_dir={self.data_dir}, pid={self.pid})"


# --- databases on any server --------------------------------------------------------------------


def database_dsn(server_dsn: str, name: str) -> str:
    """``server_dsn`` with its database replaced by ``name`` (credentials and query kept)."""
    parts = urlsplit(server_dsn)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _check_name(name: str) -> str:
    if not _DB_NAME.match(name):
        raise DevstackError(
            f"invalid database name {name!r}",
            "use letters, digits, '_' or '-' (at most 63, starting with a letter or '_')",
        )
    return '"' + name + '"'


async def create_database_async(server_dsn: str, name: str) -> bool:
    """Create database ``name`` on the server of ``server_dsn`` unless it exists."""
    quoted = _check_name(name)
    connection = await asyncpg.connect(server_dsn, timeout=30)
    try:
        if await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        for attempt in range(5):
            try:
                await connection.execute(f"CREATE DATABASE {quoted}")
                return True
            except asyncpg.exceptions.DuplicateDatabaseError:
                return False  # created concurrently by another process: fine
            except asyncpg.exceptions.ObjectInUseError:
                # "source database template1 is being accessed by other users": retry shortly.
                if attempt == 4:
                    raise
                await asyncio.sleep(0.2 * (attempt + 1))
        return False
    finally:
        await connection.close()


async def drop_database_async(server_dsn: str, name: str) -> None:
    quoted = _check_name(name)
    connection = await asyncpg.connect(server_dsn, timeout=30)
    try:
        # FORCE: a test that leaked a pool must not keep its database alive.
        await connection.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
    finally:
        await connection.close()


def create_database(server_dsn: str, name: str) -> bool:
    try:
        return run_sync(create_database_async(server_dsn, name))
    except (OSError, asyncpg.PostgresError) as error:
        raise DevstackError(
            f"cannot create database {name} via {_redact(server_dsn)}: {error}",
            "check that the server runs and that the user may CREATE DATABASE",
        ) from error


def drop_database(server_dsn: str, name: str) -> None:
    run_sync(drop_database_async(server_dsn, name))


def _redact(dsn: str) -> str:
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
