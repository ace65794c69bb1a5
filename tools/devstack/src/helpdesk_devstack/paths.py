"""Where the repository and the local state (``<repo>/.local/``) are."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from helpdesk_devstack.errors import DevstackError

#: A file only the helpdesk repository has: how the repo root is recognised.
_MARKER = Path("tools/devstack/kafka/pom.xml")


def _is_repo(path: Path) -> bool:
    return (path / _MARKER).is_file()


def find_repo_root() -> Path:
    """``HELPDESK_HOME`` if set, else the checkout this package lives in, else the working
    directory or one of its parents."""
    env = os.environ.get("HELPDESK_HOME")
    if env:
        root = Path(env).expanduser().resolve()
        if not _is_repo(root):
            raise DevstackError(
                f"HELPDESK_HOME={env} is not the helpdesk repository (no {_MARKER} there)",
                "point HELPDESK_HOME at the repository root or unset it",
            )
        return root
    # Editable installs (uv workspace) keep the package inside the checkout: src/helpdesk_devstack.
    here = Path(__file__).resolve()
    for candidate in [*here.parents, Path.cwd().resolve(), *Path.cwd().resolve().parents]:
        if _is_repo(candidate):
            return candidate
    raise DevstackError(
        "cannot find the helpdesk repository",
        "run from inside the repository or set HELPDESK_HOME=/path/to/the/repo",
    )


@dataclass(frozen=True)
class StackPaths:
    """The layout of ``<repo>/.local/`` (gitignored)."""

    repo: Path

    @property
    def local(self) -> Path:
        return self.repo / ".local"

    @property
    def pom(self) -> Path:
        return self.repo / _MARKER

    @property
    def stack_file(self) -> Path:
        return self.repo / "tools" / "devstack" / "stack.toml"

    @property
    def kafka_home(self) -> Path:
        return self.local / "kafka"

    @property
    def kafka_libs(self) -> Path:
        return self.kafka_home / "libs"

    @property
    def greenmail_pom(self) -> Path:
        return self.repo / "tools" / "devstack" / "greenmail" / "pom.xml"

    @property
    def greenmail_home(self) -> Path:
        return self.local / "greenmail"

    @property
    def greenmail_libs(self) -> Path:
        return self.greenmail_home / "libs"

    @property
    def postgres_home(self) -> Path:
        return self.local / "postgres"

    @property
    def postgres_data(self) -> Path:
        return self.postgres_home / "data"

    @property
    def run(self) -> Path:
        return self.local / "run"

    @property
    def logs(self) -> Path:
        return self.local / "log"

    @property
    def jwt(self) -> Path:
        return self.local / "jwt"

    def pid_file(self, name: str) -> Path:
        return self.run / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    @classmethod
    def discover(cls) -> StackPaths:
        return cls(find_repo_root())


def default_kafka_libs() -> Path:
    """``<repo>/.local/kafka/libs`` (what ``python -m helpdesk_devstack install`` fills)."""
    return StackPaths.discover().kafka_libs
