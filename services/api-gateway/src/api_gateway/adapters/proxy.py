"""The streaming reverse proxy: one request in, the same request to a service, its answer back.

Bodies are streamed both ways and never held whole (20 MB uploads, downloads, Server-Sent Events
chunk by chunk as they arrive); hop-by-hop headers are dropped (RFC 9110 §7.6.1); the request id
and the W3C ``traceparent`` travel on. A service that cannot be reached is a 502, one that does
not answer in time a 504, both as JSON naming the service, so a portal can tell "down" from
"slow".

The upstream client is aiohttp: on this hot path httpx's connection pool cost ten times the
time per request at 32 concurrent requests (docs/benchmarks.md, issue #15).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterable

import aiohttp
import structlog
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from yarl import URL

from api_gateway.domain.routes import Target
from api_gateway.problem import error

log = structlog.get_logger()

# Connection-specific headers (RFC 9110 §7.6.1), plus those the client and the server set.
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
NOT_FORWARDED = HOP_BY_HOP | {
    "cookie",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-request-id",
}
NOT_RETURNED = HOP_BY_HOP | {"set-cookie", "server", "date"}
# Headers the client library would add on its own; the client's are passed as they came.
# Answers up to this size with a Content-Length are read whole before they are passed on.
SMALL_BODY = 64 * 1024
NO_AUTO_HEADERS = frozenset({"User-Agent", "Accept", "Accept-Encoding", "Content-Type"})


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"request body over {limit} bytes")
        self.limit = limit


def new_traceparent() -> str:
    """A W3C trace context for a request that came without one: the trace starts here."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def _connection_tokens(headers: Iterable[tuple[str, str]]) -> set[str]:
    # Headers a Connection header names are hop-by-hop too.
    return {
        token.strip().lower()
        for name, value in headers
        if name.lower() == "connection"
        for token in value.split(",")
    }


def new_session(max_connections: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=max_connections, limit_per_host=0),
        auto_decompress=False,  # bytes pass as the service encoded them
        skip_auto_headers=NO_AUTO_HEADERS,
        cookie_jar=aiohttp.DummyCookieJar(),
        trust_env=False,
    )


class _LimitedBody:
    """The request body as it streams in, stopped past ``limit`` bytes."""

    def __init__(self, body: AsyncIterator[bytes], limit: int) -> None:
        self.body = body
        self.limit = limit
        self.exceeded = False

    async def chunks(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self.body:
            seen += len(chunk)
            if seen > self.limit:
                self.exceeded = True
                raise BodyTooLarge(self.limit)
            if chunk:
                yield chunk


class Proxy:
    def __init__(
        self, session: aiohttp.ClientSession, read_timeout: float, connect_timeout: float
    ) -> None:
        self._session = session
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
        headers = [(k, v) for k, v in raw if k not in dropped]
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
        body = _LimitedBody(request.stream(), route.max_body) if has_body else None
        query = request.scope["query_string"].decode("latin-1")
        url = URL(route.upstream + target.path + (f"?{query}" if query else ""), encoded=True)
        read = None if route.stream else (route.timeout or self._read_timeout)
        try:
            answer = await self._session.request(
                request.method,
                url,
                headers=headers,
                data=body.chunks() if body else None,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=self._connect_timeout, sock_read=read
                ),
            )
        except ClientDisconnect:
            return Response(status_code=499)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as failure:
            log.warning("service unreachable", service=route.service, error=str(failure))
            return error(
                502,
                f"{route.service} is not reachable; try again shortly",
                request_id,
                service=route.service,
            )
        except (TimeoutError, aiohttp.ServerTimeoutError):
            if body is not None and body.exceeded:
                return _too_large(route.max_body, request_id)
            log.warning("service timed out", service=route.service, path=target.path)
            return error(
                504, f"{route.service} did not answer in time", request_id, service=route.service
            )
        except (aiohttp.ClientError, BodyTooLarge) as failure:
            if body is not None and body.exceeded:
                return _too_large(route.max_body, request_id)
            log.warning("service failed", service=route.service, error=repr(failure))
            return error(
                502, f"{route.service} broke the connection", request_id, service=route.service
            )
        returned = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in answer.raw_headers]
        hidden = NOT_RETURNED | _connection_tokens(returned)
        headers_out = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in returned
            if k.lower() not in hidden
        ]
        length = answer.content_length
        response: Response
        if not route.stream and length is not None and length <= SMALL_BODY:
            # A small answer of known size (most API answers) is read whole: one send, no
            # streaming task. Anything else streams chunk by chunk as it arrives.
            try:
                content = await answer.read()
            except (aiohttp.ClientError, TimeoutError) as failure:
                log.warning(
                    "service broke off its answer", service=route.service, error=repr(failure)
                )
                return error(
                    502, f"{route.service} broke the connection", request_id, service=route.service
                )
            finally:
                answer.release()
            response = Response(content, status_code=answer.status)
        else:
            response = StreamingResponse(
                _relay(answer, route.service),
                status_code=answer.status,
                background=BackgroundTask(answer.release),
            )
        # The response's own headers are replaced with exactly the service's (multi-valued).
        response.raw_headers = headers_out
        response.headers["x-request-id"] = request_id
        if route.stream:
            response.headers["x-accel-buffering"] = "no"  # tell any proxy in front not to buffer
        return response


def _too_large(limit: int, request_id: str) -> JSONResponse:
    return error(413, f"request body too large: at most {limit} bytes here", request_id)


async def _relay(answer: aiohttp.ClientResponse, service: str) -> AsyncIterator[bytes]:
    try:
        async for chunk in answer.content.iter_any():
            yield chunk
    except (TimeoutError, aiohttp.ClientError) as failure:
        # The status line is already sent: all that can be done is to end the body early.
        log.warning("service broke off its answer", service=service, error=repr(failure))
