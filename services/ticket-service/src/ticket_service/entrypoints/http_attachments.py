"""Attachment routes: upload a file (up to 20 MB) and download it."""

from __future__ import annotations

import unicodedata
import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from helpdesk_events.tickets import AttachmentRef
from ticket_service.entrypoints.dependencies import Caller, Files
from ticket_service.entrypoints.errors import refusals
from ticket_service.entrypoints.http_common import ERRORS
from ticket_service.service_layer.attachments import MAX_ATTACHMENT_BYTES, TOO_LARGE

router = APIRouter(tags=["attachments"])


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
    files: Files,
    filename: Annotated[str, Query(min_length=1, max_length=255, pattern=r"^[^/\\\x00]+$")],
    content_type: Annotated[str, Header(max_length=255)] = "application/octet-stream",
) -> AttachmentRef:
    """Upload one file as the raw request body (`Content-Type` = the file's type), then name
    its `attachment_id` in `attachment_ids` of a new ticket or message."""
    # Content-Length is framing, not a parameter: read it here so the schema does not offer it.
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_ATTACHMENT_BYTES:
        raise HTTPException(413, TOO_LARGE)
    with refusals():
        return await files.upload(
            caller,
            filename,
            content_type.split(";")[0].strip() or "application/octet-stream",
            request.stream(),
        )


@router.get("/attachments/{attachment_id}", responses=ERRORS)
async def download(attachment_id: uuid.UUID, caller: Caller, files: Files) -> StreamingResponse:
    """The file. Customers get files they uploaded or that are on a public message (or the
    ticket itself) of one of their tickets — never a file from an internal note."""
    with refusals():
        row, chunks = await files.download(caller, attachment_id)
    return StreamingResponse(
        chunks,
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
