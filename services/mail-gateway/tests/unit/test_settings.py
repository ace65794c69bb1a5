"""The key that encrypts account passwords: from the environment, or a file the local stack
creates once; never a silent default."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from mail_gateway.adapters.accounts import SecretBox
from mail_gateway.domain.accounts import AccountSecrets
from mail_gateway.settings import Settings


def test_a_missing_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="HELPDESK_MAIL_SECRET_KEY"):
        Settings(secret_key=None, secret_key_file=None).fernet_key()
    with pytest.raises(FileNotFoundError):
        Settings(secret_key_file=tmp_path / "absent.key").fernet_key()


def test_the_local_stack_key_is_created_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "mail" / "secret.key"
    settings = Settings(secret_key_file=path, create_secret_key=True)
    key = settings.fernet_key()
    assert settings.fernet_key() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    box = SecretBox(key)
    sealed = box.seal(AccountSecrets(imap_password="hunter2"))
    assert b"hunter2" not in sealed
    assert box.open(sealed).imap_password.get_secret_value() == "hunter2"
    with pytest.raises(ValueError, match="changed"):
        SecretBox(Fernet.generate_key().decode()).open(sealed)


def test_reply_keys_are_the_current_then_the_previous(tmp_path: Path) -> None:
    assert Settings().reply_keys() == ()
    file = tmp_path / "reply.key"
    file.write_text("c" * 32 + "\n")
    settings = Settings(reply_key_file=file, reply_previous_key="p" * 32)
    assert settings.reply_keys() == (b"c" * 32, b"p" * 32)
    with pytest.raises(ValueError, match="at least 32"):
        Settings(reply_key="short").reply_keys()
    # A secret: never in the settings' repr (nor, so, in a log of them).
    assert "p" * 32 not in repr(settings)
