"""Attachment routes: upload a file (up to 20 MB) and download it."""

from __future__ import annotations

import unicodedata
import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from helpdesk_events.tickets import AttachmentRef
from ticket_service.adapters.attachments import (
    MAX_ATTACHMENT_BYTES,
    Attachments,
    UnknownAttachment,
)
from ticket_service.adapters.blob_store import BlobTooLarge
from ticket_service.entrypoints.dependencies import Caller, Tickets
from ticket_service.entrypoints.http_tickets import ERRORS

router = APIRouter(tags=["attachments"])
TOO_LARGE = (
    f"attachments are limited to {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB each; "
    "compress the file or share a link instead"
)


def attachments_of(request: Request) -> Attachments:
    store: Attachments = request.app.state.attachments
    return store


@router.post(
    "/attachments",
    status_code=201,
    response_model=AttachmentRef,
    responses={**ERRORS, 413: {"model": ERRORS[422]["model"]}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def upload(
    request: Request,
    caller: Caller,
    filename: Annotated[str, Query(min_length=1, max_length=255, pattern=r"^[^/\\\x00]+$")],
    content_type: Annotated[str, Header(max_length=255)] = "application/octet-stream",
) -> AttachmentRef:
    """Upload one file as the raw request body (`Content-Type` = the file's type), then name
    its `attachment_id` in `attachment_ids` of a new ticket or message."""
    # Content-Length is framing, not a parameter: read it here so the schema does not offer it.
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_ATTACHMENT_BYTES:
        raise HTTPException(413, TOO_LARGE)
    try:
        return await attachments_of(request).upload(
            filename,
            content_type.split(";")[0].strip() or "application/octet-stream",
            request.stream(),
            uploaded_by=caller.subject,
        )
    except BlobTooLarge:
        raise HTTPException(413, TOO_LARGE) from None


@router.get("/attachments/{attachment_id}", responses=ERRORS)
async def download(
    request: Request, attachment_id: uuid.UUID, caller: Caller, tickets: Tickets
) -> StreamingResponse:
    """The file. Customers get files they uploaded or that are on a public message (or the
    ticket itself) of one of their tickets — never a file from an internal note."""
    store = attachments_of(request)
    try:
        row = await store.metadata(attachment_id)
    except UnknownAttachment as error:
        raise HTTPException(404, str(error)) from None
    public_on = await store.publicly_on(attachment_id)
    if not await tickets.may_download(caller, row["uploaded_by"], public_on):
        raise HTTPException(404, f"no attachment {attachment_id}")
    return StreamingResponse(
        store.chunks(row),
        media_type=row["content_type"],
        headers={
            "Content-Disposition": content_disposition(row["filename"]),
            "Content-Length": str(row["size_bytes"]),
            "X-Content-Type-Options": "nosniff",
        },
    )


def content_disposition(filename: str) -> str:
    """``attachment`` with the file's name as RFC 6266 / RFC 5987 say: an ASCII ``filename``
    for old clients (accents dropped, anything else replaced) and the exact name, UTF-8 and
    percent-encoded, in ``filename*``. HTTP headers are Latin-1: a raw файл.txt cannot go in."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    safe = "".join(ch if ch.isalnum() or ch in "._- " else "_" for ch in ascii_name).strip()
    stem, dot, extension = safe.rpartition(".") if "." in safe else (safe, "", "")
    if not stem.strip("._- "):
        stem = "download"
    fallback = f"{stem}{dot}{extension}"
    encoded = quote(filename, safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
