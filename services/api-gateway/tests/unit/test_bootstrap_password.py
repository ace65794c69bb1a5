"""#15: the first manager's password never reaches a log -- it is kept in a file only its owner
reads, and the sign-in line ``bootstrap-manager`` prints names where it is."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from api_gateway.entrypoints.cli import manager_password, sign_in_line
from api_gateway.settings import Settings


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(
        bootstrap_manager_password_file=tmp_path / "local" / "manager-password", **values
    )  # type: ignore[arg-type]


def test_a_generated_password_is_kept_in_a_file_only_its_owner_reads(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    password = manager_password(settings)
    path = settings.bootstrap_manager_password_file
    assert path.read_text() == password + "\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert manager_password(settings) == password  # generated once, then read back


def test_an_existing_password_file_is_made_private(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    path = settings.bootstrap_manager_password_file
    path.parent.mkdir()
    path.write_text("kept-from-before\n")
    path.chmod(0o644)
    assert manager_password(settings) == "kept-from-before"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("from_env", [False, True])
def test_the_sign_in_line_names_where_the_password_is_never_the_password(
    tmp_path: Path, from_env: bool
) -> None:
    settings = _settings(
        tmp_path, bootstrap_manager_password="s3cret-from-env" if from_env else None
    )
    password = manager_password(settings)
    line = sign_in_line(settings, "manager@example.com")
    assert password not in line
    assert line.startswith("[ok] manager sign-in at http")
    assert "manager@example.com" in line
    if from_env:
        assert line.endswith("password from HELPDESK_BOOTSTRAP_MANAGER_PASSWORD")
    else:
        assert line.endswith(f"password in {settings.bootstrap_manager_password_file}")
