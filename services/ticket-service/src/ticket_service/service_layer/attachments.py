"""Attachment use cases: upload a file, name uploaded files on a ticket or message, download.

Who may use which file is the access policy's business, not the route's: a customer names only
files they uploaded, and downloads only those or files on a public message (or the ticket
itself) of one of their own tickets; staff use every file.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

from helpdesk_events.tickets import AttachmentRef
from ticket_service.adapters.attachments import MAX_ATTACHMENT_BYTES, UnknownAttachment
from ticket_service.domain.errors import BlobTooLarge, DomainError
from ticket_service.service_layer import access
from ticket_service.service_layer.tickets import TicketApplication

__all__ = [
    "MAX_ATTACHMENT_BYTES",
    "TOO_LARGE",
    "AttachmentFiles",
    "AttachmentNotFound",
    "AttachmentTooLarge",
    "UnusableAttachment",
]

TOO_LARGE = (
    f"attachments are limited to {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB each; "
    "compress the file or share a link instead"
)


class AttachmentNotFound(DomainError):
    """No such file, or none the caller may download (HTTP 404)."""


class AttachmentTooLarge(DomainError):
    """The file is over the size limit (HTTP 413)."""


class UnusableAttachment(DomainError):
    """A named attachment id is unknown, or not the caller's to use (HTTP 422)."""


class AttachmentStore(Protocol):
    """Where files and their metadata are kept (``adapters/attachments.py``)."""

    async def upload(
        self,
        filename: str,
        content_type: str,
        chunks: AsyncIterator[bytes],
        *,
        uploaded_by: str,
    ) -> AttachmentRef: ...

    async def refs(
        self, ids: Sequence[uuid.UUID], *, uploaded_by: str | None
    ) -> tuple[AttachmentRef, ...]: ...

    async def metadata(self, attachment_id: uuid.UUID) -> Any: ...

    def chunks(self, row: Any) -> AsyncIterator[bytes]: ...

    async def publicly_on(self, attachment_id: uuid.UUID) -> list[uuid.UUID]: ...


class AttachmentFiles:
    def __init__(self, store: AttachmentStore, tickets: TicketApplication) -> None:
        self._store = store
        self._tickets = tickets

    async def upload(
        self,
        who: access.Principal,
        filename: str,
        content_type: str,
        chunks: AsyncIterator[bytes],
    ) -> AttachmentRef:
        try:
            return await self._store.upload(filename, content_type, chunks, uploaded_by=who.subject)
        except BlobTooLarge:
            raise AttachmentTooLarge(TOO_LARGE) from None

    async def refs(
        self, who: access.Principal, ids: Sequence[uuid.UUID]
    ) -> tuple[AttachmentRef, ...]:
        """References to put on a ticket or message; a customer names their own uploads only."""
        uploaded_by = who.subject if who.role is access.Role.CUSTOMER else None
        try:
            return await self._store.refs(ids, uploaded_by=uploaded_by)
        except UnknownAttachment as error:
            raise UnusableAttachment(str(error)) from None

    async def download(
        self, who: access.Principal, attachment_id: uuid.UUID
    ) -> tuple[Any, AsyncIterator[bytes]]:
        """The file's metadata (filename, content_type, size_bytes) and its bytes."""
        try:
            row = await self._store.metadata(attachment_id)
        except UnknownAttachment as error:
            raise AttachmentNotFound(str(error)) from None
        public_on = await self._store.publicly_on(attachment_id)
        if not await self._tickets.may_download(who, row["uploaded_by"], public_on):
            raise AttachmentNotFound(f"no attachment {attachment_id}")
        return row, self._store.chunks(row)
