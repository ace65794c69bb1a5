"""#15: a password a one-shot command keeps in ``.local/`` reaches the operator's terminal on
``make up`` and never the service's log."""

from __future__ import annotations

import sys
from pathlib import Path

from helpdesk_devstack.paths import StackPaths
from helpdesk_devstack.settings import StackSettings
from helpdesk_devstack.stack import AppSpec, Stack


def _stack(repo: Path, out: list[str]) -> Stack:
    return Stack(StackPaths(repo), StackSettings(), out=out.append)


def test_the_sign_in_line_shows_the_password_on_the_terminal_and_not_in_the_log(
    tmp_path: Path,
) -> None:
    kept = tmp_path / ".local" / "manager-password"
    kept.parent.mkdir()
    kept.write_text("Zq8-secret-pw\n")
    kept.chmod(0o600)
    line = f"[ok] manager sign-in at http://127.0.0.1:8080: m@example.com, password in {kept}"
    out: list[str] = []
    stack = _stack(tmp_path, out)
    log = tmp_path / ".local" / "log" / "api-gateway.log"
    log.parent.mkdir()
    spec = AppSpec(name="api-gateway", command=["true"])
    stack._run_pre(spec, [sys.executable, "-c", f"print({line!r})"], {}, log)

    assert "Zq8-secret-pw" not in log.read_text()
    assert str(kept) in log.read_text()
    assert (
        "     manager sign-in at http://127.0.0.1:8080: m@example.com, "
        "Zq8-secret-pw  (kept in .local/manager-password)"
    ) in out


def test_only_files_of_the_stacks_own_directory_are_read(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("not-for-the-terminal\n")
    stack = _stack(tmp_path / "repo", [])
    for line in (
        f"sign-in: m@example.com, password in {elsewhere}",
        "sign-in: m@example.com, password in .local/../../elsewhere",
        "sign-in: m@example.com, password in .local/missing",
        "sign-in: m@example.com, password from HELPDESK_BOOTSTRAP_MANAGER_PASSWORD",
    ):
        assert stack.reveal_password(line) == line
