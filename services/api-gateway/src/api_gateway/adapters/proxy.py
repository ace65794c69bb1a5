"""The streaming reverse proxy: one request in, the same request to a service, its answer back.

Bodies are streamed both ways and never held whole (20 MB uploads, downloads, Server-Sent Events
chunk by chunk); hop-by-hop headers are dropped (RFC 9110 §7.6.1); the request id and the W3C
``traceparent`` travel on. A service that cannot be reached is a 502, one that does not answer in
time a 504, both as JSON naming the service, so a portal can tell "down" from "slow".
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterable

import httpx
import structlog
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from api_gateway.domain.routes import Target

log = structlog.get_logger()

# Connection-specific headers (RFC 9110 §7.6.1), plus those httpx and the server set themselves.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
    }
)
# The client's cookies are the gateway's (the refresh cookie): services never see them.
NOT_FORWARDED = HOP_BY_HOP | {"cookie", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto"}
NOT_RETURNED = HOP_BY_HOP | {"set-cookie", "server", "date"}


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"request body over {limit} bytes")
        self.limit = limit


def error(status: int, detail: str, request_id: str, **extra: str) -> JSONResponse:
    return JSONResponse(
        {"detail": detail, "request_id": request_id, **extra},
        status_code=status,
        headers={"X-Request-ID": request_id},
    )


def new_traceparent() -> str:
    """A W3C trace context for a request that came without one: the trace starts here."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def _connection_tokens(headers: Iterable[tuple[str, str]]) -> set[str]:
    # Headers a Connection header names are hop-by-hop too.
    return {
        token.strip().lower()
        for name, value in headers
        if name == "connection"
        for token in value.split(",")
    }


class Proxy:
    def __init__(
        self, client: httpx.AsyncClient, read_timeout: float, connect_timeout: float
    ) -> None:
        self._client = client
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout

    async def forward(
        self, request: Request, target: Target, *, request_id: str, client_ip: str
    ) -> Response:
        route = target.route
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                return error(400, "Content-Length must be a number of bytes", request_id)
            if int(declared) > route.max_body:
                return _too_large(route.max_body, request_id)
        raw = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]]
        dropped = NOT_FORWARDED | _connection_tokens(raw)
        headers = [(k, v) for k, v in raw if k not in dropped and k != "x-request-id"]
        forwarded_for = request.headers.get("x-forwarded-for")
        headers += [
            ("x-request-id", request_id),
            ("x-forwarded-for", f"{forwarded_for}, {client_ip}" if forwarded_for else client_ip),
            ("x-forwarded-proto", request.url.scheme),
            ("x-forwarded-host", request.headers.get("host", "")),
        ]
        if "traceparent" not in request.headers:
            headers.append(("traceparent", new_traceparent()))
        has_body = declared not in (None, "0") or "transfer-encoding" in request.headers
        url = httpx.URL(route.upstream + target.path, query=request.scope["query_string"])
        upstream_request = self._client.build_request(
            request.method,
            url,
            headers=headers,
            content=_limited(request.stream(), route.max_body) if has_body else None,
            timeout=httpx.Timeout(
                connect=self._connect_timeout,
                read=None if route.stream else (route.timeout or self._read_timeout),
                write=route.timeout or self._read_timeout,
                pool=self._connect_timeout,
            ),
        )
        try:
            answer = await self._client.send(upstream_request, stream=True)
        except BodyTooLarge as too_large:
            return _too_large(too_large.limit, request_id)
        except ClientDisconnect:
            return Response(status_code=499)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as failure:
            log.warning("service unreachable", service=route.service, error=str(failure))
            return error(
                502,
                f"{route.service} is not reachable; try again shortly",
                request_id,
                service=route.service,
            )
        except httpx.TimeoutException:
            log.warning("service timed out", service=route.service, path=target.path)
            return error(
                504,
                f"{route.service} did not answer in time",
                request_id,
                service=route.service,
            )
        except httpx.HTTPError as failure:
            log.warning("service failed", service=route.service, error=str(failure))
            return error(
                502, f"{route.service} broke the connection", request_id, service=route.service
            )
        returned = [
            (k, v)
            for k, v in answer.headers.multi_items()
            if k not in NOT_RETURNED and k not in _connection_tokens(answer.headers.multi_items())
        ]
        response = StreamingResponse(
            _relay(answer, route.service),
            status_code=answer.status_code,
            background=BackgroundTask(answer.aclose),
        )
        # StreamingResponse's own headers are replaced with exactly the service's (multi-valued).
        response.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in returned]
        response.headers["x-request-id"] = request_id
        if route.stream:
            response.headers["x-accel-buffering"] = "no"  # tell any proxy in front not to buffer
        return response


def _too_large(limit: int, request_id: str) -> JSONResponse:
    return error(413, f"request body too large: at most {limit} bytes here", request_id)


async def _limited(body: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    seen = 0
    async for chunk in body:
        seen += len(chunk)
        if seen > limit:
            raise BodyTooLarge(limit)
        if chunk:
            yield chunk


async def _relay(answer: httpx.Response, service: str) -> AsyncIterator[bytes]:
    try:
        async for chunk in answer.aiter_raw():
            yield chunk
    except httpx.HTTPError as failure:
        # The status line is already sent: all that can be done is to end the body early.
        log.warning("service broke off its answer", service=service, error=str(failure))
