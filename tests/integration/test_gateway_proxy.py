"""The gateway as a reverse proxy on the real stack: routing by the table, headers passed and
dropped, bodies streamed both ways (20 MB to the ticket service and back, Server-Sent Events
unbuffered), clear 502/504 errors, the merged OpenAPI document, the portals' files and the
edge's headers."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from helpdesk_devstack.tokens import mint_token

from .gateway_stack import GatewayStack, gateway  # noqa: F401

pytestmark = pytest.mark.integration


def token(stack: GatewayStack, role: str = "agent") -> str:
    return mint_token(stack.private_key, role, f"dev-{role}", timedelta(minutes=5))


async def test_ticket_api_through_the_gateway(gateway: GatewayStack) -> None:  # noqa: F811
    headers = {"Authorization": f"Bearer {token(gateway)}", "Idempotency-Key": str(uuid.uuid4())}
    async with gateway.client() as client:
        created = await client.post(
            "/api/tickets",
            headers=headers,
            json={"subject": "Printer jam", "requester": {"email": "ani@example.com"}},
        )
        assert created.status_code == 201, created.text
        ticket_id = created.json()["id"]
        fetched = await client.get(f"/api/tickets/{ticket_id}", headers=headers)
        assert fetched.status_code == 200
        assert fetched.json()["subject"] == "Printer jam"
        assert fetched.headers["etag"]  # the service's headers come back
        unauthenticated = await client.get("/api/tickets")
        assert unauthenticated.status_code == 401  # the service's own check
        forged = await client.get("/api/tickets", headers={"Authorization": "Bearer not.a.jwt"})
        assert forged.status_code == 401
        assert forged.json()["detail"].startswith("invalid token")
        unknown = await client.get("/api/nothing-here")
        assert unknown.status_code == 404
        assert unknown.json()["detail"] == "no API at /api/nothing-here"


async def test_headers_passed_and_dropped(gateway: GatewayStack) -> None:  # noqa: F811
    async with gateway.client() as client:
        answer = await client.post(
            "/api/notifications/echo?a=1&b=%2F",
            content=b"hello",
            headers={
                "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                "X-Request-ID": "req-42",
                "Cookie": "helpdesk_refresh=secret",
                "Connection": "keep-alive, X-Private",
                "X-Private": "hop",
            },
        )
        assert answer.status_code == 200
        seen = answer.json()
        assert seen["path"] == "/notifications/echo"
        assert seen["query"] == "a=1&b=%2F"
        assert seen["size"] == 5
        sent = seen["headers"]
        assert sent["traceparent"] == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        assert sent["x-request-id"] == "req-42"
        assert sent["x-forwarded-for"] == "127.0.0.1"
        assert "cookie" not in sent  # the gateway's cookie never reaches a service
        assert "x-private" not in sent  # named by Connection: hop-by-hop
        assert answer.headers["x-request-id"] == "req-42"
        assert answer.headers["x-upstream"] == "yes"
        assert "set-cookie" not in answer.headers  # services cannot set cookies on our origin
        # Without a traceparent, the gateway starts the trace; without a request id, makes one
        fresh = (await client.get("/api/notifications/echo")).json()["headers"]
        assert fresh["traceparent"].startswith("00-")
        assert len(fresh["x-request-id"]) == 32


async def test_server_sent_events_pass_unbuffered(gateway: GatewayStack) -> None:  # noqa: F811
    gateway.probe.release.clear()
    async with (
        gateway.client() as client,
        client.stream("GET", "/api/notifications/stream") as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.aiter_lines()
        first = [await asyncio.wait_for(anext(lines), 10) for _ in range(2)]
        # The service holds the second event back until we have the first.
        assert first == ["id: 1", "data: first"]
        gateway.probe.release.set()
        rest = [line async for line in lines if line]
        assert rest == ["id: 2", "data: second"]


async def test_20_mb_upload_and_download_pass_through(gateway: GatewayStack) -> None:  # noqa: F811
    body = os.urandom(20 * 1024 * 1024)

    async def chunks(size: int) -> AsyncIterator[bytes]:
        # No Content-Length: the gateway counts what streams through
        for start in range(0, size, 256 * 1024):
            yield body[start : min(size, start + 256 * 1024)]

    headers = {"Authorization": f"Bearer {token(gateway)}", "Content-Type": "application/pdf"}
    async with gateway.client(timeout=120) as client:
        uploaded = await client.post(
            "/api/attachments?filename=big.pdf", content=body, headers=headers
        )
        assert uploaded.status_code == 201, uploaded.text
        attachment_id = uploaded.json()["attachment_id"]
        digest = hashlib.sha256()
        async with client.stream(
            "GET", f"/api/attachments/{attachment_id}", headers=headers
        ) as download:
            assert download.status_code == 200
            async for chunk in download.aiter_bytes():
                digest.update(chunk)
        assert digest.hexdigest() == hashlib.sha256(body).hexdigest()
        streamed = await client.post("/api/notifications/echo", content=chunks(900_000))
        assert streamed.status_code == 200
        assert streamed.json()["size"] == 900_000
        assert streamed.json()["headers"]["transfer-encoding"] == "chunked"
        over = await client.post("/api/notifications/echo", content=chunks(3 << 20))
        assert over.status_code == 413  # the route's limit is 1 MiB
        too_big = await client.post(
            "/api/attachments?filename=huge.pdf",
            content=body + body[: 1024 * 1024],
            headers=headers,
        )
        assert too_big.status_code == 413
        small_route = await client.post("/api/notifications/echo", content=b"x" * (2 << 20))
        assert small_route.status_code == 413


async def test_service_down_is_502_and_slow_is_504(gateway: GatewayStack) -> None:  # noqa: F811
    async with gateway.client() as client:
        down = await client.get("/api/sla/policies")
        assert down.status_code == 502
        assert down.json()["service"] == "sla-service"
        assert "not reachable" in down.json()["detail"]
        assert down.json()["request_id"] == down.headers["x-request-id"]
        slow = await client.get("/api/rules/slow")  # the gateway waits 2 s here
        assert slow.status_code == 504
        assert slow.json()["service"] == "assignment-service"


async def test_merged_openapi_document(gateway: GatewayStack) -> None:  # noqa: F811
    async with gateway.client() as client:
        document = (await client.get("/api/openapi.json")).json()
    paths = document["paths"]
    assert "/api/tickets" in paths and "/api/tickets/{ticket_id}" in paths
    assert "/api/agents" in paths and "/api/customers" in paths
    assert "/api/auth/sign-in" in paths and "/api/auth/customer/redeem" in paths
    assert "/api/notifications/stream" in paths
    assert not any("internal" in path for path in paths)  # not routed: not public
    assert "sla-service" in document["x-unavailable-services"]
    assert "TicketView" in document["components"]["schemas"]


async def test_portal_files_and_edge_headers(gateway: GatewayStack) -> None:  # noqa: F811
    async with gateway.client() as client:
        index = await client.get("/portal/")
        assert index.status_code == 200
        assert index.headers["cache-control"] == "no-cache"
        assert "frame-ancestors 'none'" in index.headers["content-security-policy"]
        assert "default-src 'self'" in index.headers["content-security-policy"]
        route = await client.get("/portal/sign-in?token=abc")  # a client-side route
        assert route.status_code == 200 and "portal" in route.text
        asset = await client.get("/portal/assets/app-3f2a1b.js")
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        missing = await client.get("/portal/assets/gone-000000.js")
        assert missing.status_code == 404
        api = await client.get("/.well-known/jwks.json")
        assert api.headers["x-content-type-options"] == "nosniff"
        assert api.headers["referrer-policy"] == "no-referrer"
        assert (
            api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
        )
        assert "strict-transport-security" not in api.headers  # no TLS in front here
        preflight = await client.options(
            "/api/tickets",
            headers={
                "Origin": "https://portal.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://portal.example"
        assert preflight.headers["access-control-allow-credentials"] == "true"
        stranger = await client.options(
            "/api/tickets",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert "access-control-allow-origin" not in stranger.headers
    # Dot segments are refused (httpx would normalise them away: send the raw request line)
    host, port = gateway.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"GET /api/tickets/../agents HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    assert status_line.split()[1] == b"400"


async def test_request_ids_are_sane(gateway: GatewayStack) -> None:  # noqa: F811
    async with gateway.client() as client:
        odd = await client.get("/api/nothing", headers={"X-Request-ID": "bad id\twith spaces"})
    assert odd.headers["x-request-id"] != "bad id\twith spaces"
    assert len(odd.headers["x-request-id"]) == 32


def test_the_gateway_survives_every_proxy_test(gateway: GatewayStack) -> None:  # noqa: F811
    # The gateway process is still up after all of the above (nothing crashed it).
    assert gateway.process.process.poll() is None
    assert httpx.get(f"{gateway.url}/healthz").status_code == 200
