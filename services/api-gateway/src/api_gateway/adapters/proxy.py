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
from dataclasses import dataclass

import aiohttp
import structlog
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect, Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send
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
# The gateway sets its own X-Request-ID on every answer.
NOT_RETURNED = HOP_BY_HOP | {"set-cookie", "server", "date", "x-request-id"}
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


#: Seconds an idle connection to a service is kept for reuse: under uvicorn's keep-alive (5 s)
#: so the gateway never sends a request on a connection the service is closing at that instant
#: (aiohttp's 15 s default did, and the request came back as a 502 "broke the connection").
IDLE_CONNECTION_SECONDS = 4.0


def new_session(max_connections: int) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(
        limit=max_connections, limit_per_host=0, keepalive_timeout=IDLE_CONNECTION_SECONDS
    )
    return aiohttp.ClientSession(
        connector=connector,
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
        self._timeouts: dict[float | None, aiohttp.ClientTimeout] = {}

    def _timeout(self, read: float | None) -> aiohttp.ClientTimeout:
        # One timeout object per distinct read timeout, not one per request.
        found = self._timeouts.get(read)
        if found is None:
            found = aiohttp.ClientTimeout(total=None, connect=self._connect_timeout, sock_read=read)
            self._timeouts[read] = found
        return found

    async def forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        target: Target,
        *,
        request_id: str,
        client_ip: str,
    ) -> None:
        """Answer the ASGI request ``scope`` with the service's answer (plain ASGI on the hot
        path: a proxied request builds no Request or Response objects)."""
        route = target.route
        raw = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        declared = forwarded_for = None
        host = ""
        chunked = has_traceparent = False
        for name, value in raw:
            if name == "content-length":
                declared = value
            elif name == "x-forwarded-for":
                forwarded_for = value
            elif name == "host":
                host = value
            elif name == "transfer-encoding":
                chunked = True
            elif name == "traceparent":
                has_traceparent = True
        if declared is not None:
            if not declared.isdigit():
                refusal = _Failure(400, "Content-Length must be a number of bytes")
                await refusal.send(scope, receive, send, request_id)
                return
            if int(declared) > route.max_body:
                await _too_large(scope, receive, send, route.max_body, request_id)
                return
        dropped = NOT_FORWARDED | _connection_tokens(raw)
        headers = [(k, v) for k, v in raw if k not in dropped]
        headers += [
            ("x-request-id", request_id),
            ("x-forwarded-for", f"{forwarded_for}, {client_ip}" if forwarded_for else client_ip),
            ("x-forwarded-proto", scope.get("scheme", "http")),
            ("x-forwarded-host", host),
        ]
        if not has_traceparent:
            headers.append(("traceparent", new_traceparent()))
        has_body = declared not in (None, "0") or chunked
        # Starlette's stream of the ASGI body (a disconnect is ClientDisconnect), only when
        # there is a body to read.
        stream = Request(scope, receive).stream() if has_body else None
        body = _LimitedBody(stream, route.max_body) if stream is not None else None
        query = scope["query_string"].decode("latin-1")
        url = URL(route.upstream + target.path + (f"?{query}" if query else ""), encoded=True)
        read = None if route.stream else (route.timeout or self._read_timeout)
        service = route.service
        outcome = await self._call(scope["method"], url, headers, body, read, service)
        if isinstance(outcome, _Failure):
            if outcome.status == 499:
                # Nobody is left to read it; answered anyway so the server sees an answer.
                await send({"type": "http.response.start", "status": 499, "headers": []})
                await send({"type": "http.response.body", "body": b""})
            elif body is not None and body.exceeded:
                await _too_large(scope, receive, send, route.max_body, request_id)
            else:
                await outcome.send(scope, receive, send, request_id)
            return
        answer = outcome
        returned = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in answer.raw_headers]
        hidden = NOT_RETURNED | _connection_tokens(returned)
        headers_out = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in returned
            if k.lower() not in hidden
        ]
        headers_out.append((b"x-request-id", request_id.encode("latin-1")))
        length = answer.content_length
        if not route.stream and length is not None and length <= SMALL_BODY:
            # A small answer of known size (most API answers) is read whole and passed on in
            # one message. Anything else streams chunk by chunk as it arrives.
            try:
                content = await answer.read()
            except (aiohttp.ClientError, TimeoutError) as failure:
                log.warning("service broke off its answer", service=service, error=repr(failure))
                await _broke(service).send(scope, receive, send, request_id)
                return
            finally:
                answer.release()
            await send(
                {"type": "http.response.start", "status": answer.status, "headers": headers_out}
            )
            await send({"type": "http.response.body", "body": content})
            return
        response = StreamingResponse(
            _relay(answer, service),
            status_code=answer.status,
            background=BackgroundTask(answer.release),
        )
        # The response's own headers are replaced with exactly the service's (multi-valued).
        response.raw_headers = headers_out
        if route.stream:
            response.headers["x-accel-buffering"] = "no"  # tell any proxy in front not to buffer
        await response(scope, receive, send)

    async def _call(
        self,
        method: str,
        url: URL,
        headers: list[tuple[str, str]],
        body: _LimitedBody | None,
        read: float | None,
        service: str,
    ) -> aiohttp.ClientResponse | _Failure:
        """The service's answer (its headers read), or why there is none."""
        try:
            return await self._session.request(
                method,
                url,
                headers=headers,
                data=body.chunks() if body else None,
                allow_redirects=False,
                timeout=self._timeout(read),
            )
        except ClientDisconnect:
            return _Failure(499, "the client left")
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as failure:
            log.warning("service unreachable", service=service, error=str(failure))
            return _Failure(502, f"{service} is not reachable; try again shortly", service)
        except (TimeoutError, aiohttp.ServerTimeoutError):
            log.warning("service timed out", service=service, path=url.path)
            return _Failure(504, f"{service} did not answer in time", service)
        except (aiohttp.ClientError, BodyTooLarge) as failure:
            log.warning("service failed", service=service, error=repr(failure))
            return _broke(service)


@dataclass(frozen=True)
class _Failure:
    """No answer from a service: the gateway's own error answer instead."""

    status: int
    detail: str
    service: str | None = None

    async def send(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        extra = {"service": self.service} if self.service else {}
        await error(self.status, self.detail, request_id, **extra)(scope, receive, send)


def _broke(service: str) -> _Failure:
    return _Failure(502, f"{service} broke the connection", service)


async def _too_large(
    scope: Scope, receive: Receive, send: Send, limit: int, request_id: str
) -> None:
    detail = f"request body too large: at most {limit} bytes here"
    await _Failure(413, detail).send(scope, receive, send, request_id)


async def _relay(answer: aiohttp.ClientResponse, service: str) -> AsyncIterator[bytes]:
    try:
        async for chunk in answer.content.iter_any():
            yield chunk
    except (TimeoutError, aiohttp.ClientError) as failure:
        # The status line is already sent: all that can be done is to end the body early.
        log.warning("service broke off its answer", service=service, error=repr(failure))
