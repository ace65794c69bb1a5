"""The local stack's mail reply key: generated once, readable by its owner only, kept after."""

from __future__ import annotations

import stat
from pathlib import Path

from helpdesk_devstack.tokens import ensure_mail_reply_key
from helpdesk_platform.mail_reply import reply_key


def test_the_reply_key_is_made_once_owner_only_and_long_enough(tmp_path: Path) -> None:
    path = ensure_mail_reply_key(tmp_path / "mail")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_bytes()
    assert ensure_mail_reply_key(tmp_path / "mail").read_bytes() == first
    assert reply_key(None, path) == first  # what both services read from the file
