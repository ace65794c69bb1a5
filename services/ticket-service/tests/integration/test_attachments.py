"""Attachments: upload to the blob store, size limit, use on tickets and messages, and who may
download them."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from .conftest import bearer

pytestmark = pytest.mark.integration

MB = 1024 * 1024


async def upload(
    api: httpx.AsyncClient, headers: dict[str, str], content: bytes, name: str = "report.pdf"
) -> httpx.Response:
    return await api.post(
        "/attachments",
        params={"filename": name},
        content=content,
        headers=headers | {"Content-Type": "application/pdf"},
    )


async def test_upload_attach_and_download(
    api: httpx.AsyncClient, token: Callable[..., str]
) -> None:
    agent = bearer(token("agent"))
    content = b"%PDF-1.7 " + bytes(range(256)) * 400
    uploaded = await upload(api, agent, content)
    assert uploaded.status_code == 201, uploaded.text
    ref = uploaded.json()
    assert (ref["size_bytes"], ref["sha256"]) == (len(content), hashlib.sha256(content).hexdigest())

    ticket = await api.post(
        "/tickets",
        json={"subject": "See the report", "attachment_ids": [ref["attachment_id"]]},
        headers=agent,
    )
    assert ticket.status_code == 201, ticket.text
    downloaded = await api.get(f"/attachments/{ref['attachment_id']}", headers=agent)
    assert downloaded.status_code == 200
    assert downloaded.content == content
    assert downloaded.headers["content-type"] == "application/pdf"
    assert 'filename="report.pdf"' in downloaded.headers["content-disposition"]
    unknown = await api.post(
        "/tickets", json={"subject": "x", "attachment_ids": [str(uuid.uuid4())]}, headers=agent
    )
    assert unknown.status_code == 422


async def test_files_over_20_mb_are_refused_with_413(
    api: httpx.AsyncClient, token: Callable[..., str]
) -> None:
    agent = bearer(token("agent"))
    declared = await upload(api, agent, b"x" * (20 * MB + 1))
    assert declared.status_code == 413
    assert "20 MB" in declared.json()["detail"]

    async def streamed() -> AsyncIterator[bytes]:  # no Content-Length: counted while stored
        for _ in range(21):
            yield b"y" * MB

    chunked = await api.post(
        "/attachments", params={"filename": "big.iso"}, content=streamed(), headers=agent
    )
    assert chunked.status_code == 413
    exactly_20 = await upload(api, agent, b"z" * (20 * MB))
    assert exactly_20.status_code == 201


async def test_customers_never_get_files_from_internal_notes(
    api: httpx.AsyncClient, token: Callable[..., str], caught_up: Callable[[], Awaitable[int]]
) -> None:
    agent = bearer(token("agent"))
    email = f"dewi-{uuid.uuid4().hex[:6]}@example.co.id"
    customer = bearer(token("customer", subject=str(uuid.uuid4()), email=email))
    ticket = (
        await api.post("/tickets", json={"subject": "Broken screen"}, headers=customer)
    ).json()
    private = (await upload(api, agent, b"internal diagnostics", "diag.txt")).json()
    shared = (await upload(api, agent, b"repair guide", "guide.txt")).json()
    await api.post(
        f"/tickets/{ticket['id']}/messages",
        json={
            "body": "diag",
            "visibility": "internal",
            "attachment_ids": [private["attachment_id"]],
        },
        headers=agent,
    )
    await api.post(
        f"/tickets/{ticket['id']}/messages",
        json={"body": "Follow this guide", "attachment_ids": [shared["attachment_id"]]},
        headers=agent,
    )
    await caught_up()
    assert (await api.get(f"/attachments/{shared['attachment_id']}", headers=customer)).content == (
        b"repair guide"
    )
    hidden = await api.get(f"/attachments/{private['attachment_id']}", headers=customer)
    assert hidden.status_code == 404
    own = (await upload(api, customer, b"photo of the screen", "screen.jpg")).json()
    assert (
        await api.get(f"/attachments/{own['attachment_id']}", headers=customer)
    ).status_code == 200
    stolen = await api.post(
        f"/tickets/{ticket['id']}/messages",
        json={"body": "mine", "attachment_ids": [private["attachment_id"]]},
        headers=customer,
    )
    assert stolen.status_code == 422  # a customer may only attach their own uploads


async def test_bad_file_names_are_refused(
    api: httpx.AsyncClient, token: Callable[..., str]
) -> None:
    agent = bearer(token("agent"))
    for name in ("../../etc/passwd", "a/b.txt", ""):
        response = await upload(api, agent, b"x", name)
        assert response.status_code == 422, name
