"""An account's archive folder: a name every IMAP server takes the same way, never the folder
the inbox is read from (moving mail there would read it again)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from helpdesk_events.mail import EmailAccountSaved
from mail_gateway.domain.accounts import AccountSettings

BASE: dict[str, Any] = {
    "address": "support@helpdesk.example",
    "imap_host": "imap.helpdesk.example",
    "imap_user": "support@helpdesk.example",
    "smtp_host": "smtp.helpdesk.example",
}


def test_without_an_archive_folder_handled_mail_stays_in_the_inbox() -> None:
    assert AccountSettings(**BASE).archive_folder is None


@pytest.mark.parametrize("name", ["Helpdesk/Handled", "Diproses", "INBOX.Done", "Sudah diproses"])
def test_an_archive_folder_is_kept_as_named(name: str) -> None:
    assert AccountSettings(**BASE, archive_folder=name).archive_folder == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "at least 1 character"),
        ("   ", "printable ASCII"),
        ("Done ", "printable ASCII"),
        (" Done", "printable ASCII"),
        ("Sélesai", "printable ASCII"),
        ("Done\r\nA1 DELETE INBOX", "printable ASCII"),
        ("Done*", "cannot hold"),
        ("Done%", "cannot hold"),
        ('Do"ne', "cannot hold"),
        ("Do\\ne", "cannot hold"),
        ("x" * 201, "at most 200 characters"),
    ],
)
def test_an_archive_folder_name_imap_would_read_otherwise_is_refused(
    name: str, reason: str
) -> None:
    with pytest.raises(ValidationError, match=reason):
        AccountSettings(**BASE, archive_folder=name)


@pytest.mark.parametrize(
    ("inbox", "archive"),
    [("INBOX", "INBOX"), ("INBOX", "inbox"), ("inbox", "Inbox"), ("Support", "Support")],
)
def test_the_archive_folder_cannot_be_the_inbox_folder(inbox: str, archive: str) -> None:
    with pytest.raises(ValidationError, match="archive_folder must differ from imap_folder"):
        AccountSettings(**BASE, imap_folder=inbox, archive_folder=archive)


def test_other_folders_than_inbox_are_told_apart_by_case() -> None:
    settings = AccountSettings(**BASE, imap_folder="Support", archive_folder="support")
    assert settings.archive_folder == "support"


def test_the_account_event_carries_the_archive_folder() -> None:
    """Analysts and the portals see where handled mail goes; older events read as none."""
    settings = AccountSettings(**BASE, archive_folder="Diproses")
    event = EmailAccountSaved(
        account_id="6f1c0c9e-2b1a-4c4e-9a55-0d7f3c1d2e10",
        **settings.model_dump(exclude={"signature"}),
    )
    assert event.archive_folder == "Diproses"
    older = event.model_dump(mode="json", exclude={"archive_folder"})
    assert EmailAccountSaved.model_validate(older).archive_folder is None
