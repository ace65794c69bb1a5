"""Attachment metadata: which blob holds a file, its name, type, size and checksum.

Uploading stores the blob and this row; events then carry an ``AttachmentRef`` built from it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import asyncpg

from helpdesk_events.tickets import AttachmentRef
from ticket_service.adapters.blob_store import BlobStore

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024


class UnknownAttachment(LookupError):
    pass


class Attachments:
    def __init__(self, pool: asyncpg.Pool, blobs: BlobStore) -> None:
        self._pool = pool
        self._blobs = blobs

    async def upload(
        self,
        filename: str,
        content_type: str,
        chunks: AsyncIterator[bytes],
        *,
        uploaded_by: str,
        max_bytes: int = MAX_ATTACHMENT_BYTES,
    ) -> AttachmentRef:
        attachment_id = uuid.uuid4()
        key = f"{datetime.now(UTC):%Y/%m/%d}/{attachment_id}"
        stored = await self._blobs.put_object(key, chunks, max_bytes=max_bytes)
        await self._pool.execute(
            "INSERT INTO attachments (attachment_id, storage_key, filename, content_type,"
            " size_bytes, sha256, uploaded_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            attachment_id,
            key,
            filename,
            content_type,
            stored.size_bytes,
            stored.sha256,
            uploaded_by,
        )
        return AttachmentRef(
            attachment_id=attachment_id,
            filename=filename,
            content_type=content_type,
            size_bytes=stored.size_bytes,
            sha256=stored.sha256,
        )

    async def refs(
        self, ids: Sequence[uuid.UUID], *, uploaded_by: str | None
    ) -> tuple[AttachmentRef, ...]:
        """References for attachments to put on a ticket or message; a customer may only use
        files they uploaded themselves (``uploaded_by``)."""
        if not ids:
            return ()
        rows = await self._pool.fetch(
            "SELECT attachment_id, filename, content_type, size_bytes, sha256 FROM attachments"
            " WHERE attachment_id = ANY($1::uuid[]) AND ($2::text IS NULL OR uploaded_by = $2)",
            list(ids),
            uploaded_by,
        )
        found = {row["attachment_id"]: row for row in rows}
        missing = [str(i) for i in ids if i not in found]
        if missing:
            raise UnknownAttachment(f"unknown attachment(s): {', '.join(missing)}; upload first")
        return tuple(AttachmentRef(**dict(found[i])) for i in ids)

    async def open(self, attachment_id: uuid.UUID) -> tuple[asyncpg.Record, AsyncIterator[bytes]]:
        row = await self.metadata(attachment_id)
        return row, self.chunks(row)

    async def metadata(self, attachment_id: uuid.UUID) -> asyncpg.Record:
        row = await self._pool.fetchrow(
            "SELECT * FROM attachments WHERE attachment_id = $1", attachment_id
        )
        if row is None:
            raise UnknownAttachment(f"no attachment {attachment_id}")
        return row

    def chunks(self, row: asyncpg.Record) -> AsyncIterator[bytes]:
        """The file's bytes, read from the blob store as they are sent."""
        return self._blobs.get_object(row["storage_key"])

    async def publicly_on(self, attachment_id: uuid.UUID) -> list[uuid.UUID]:
        """Tickets where the file is on the ticket itself or on a public message: the only
        places a customer may download it from (never from an internal note)."""
        rows = await self._pool.fetch(
            "SELECT m.ticket_id FROM ticket_messages m WHERE m.visibility = 'public'"
            " AND m.attachments @> jsonb_build_array(jsonb_build_object('attachment_id', $1::text))"
            " UNION SELECT stream_id FROM events WHERE stream_type = 'ticket'"
            " AND event_type = 'TicketCreated' AND data->'attachments'"
            " @> jsonb_build_array(jsonb_build_object('attachment_id', $1::text))",
            str(attachment_id),
        )
        return [row["ticket_id"] for row in rows]
