"""Edge middleware (plain ASGI, so streamed bodies pass untouched): request ids, security
headers and the per-IP rate limit.

Every answer carries ``X-Request-ID`` (the client's, when it is a sane token, else a new one),
``X-Content-Type-Options: nosniff``, a ``Referrer-Policy``, ``frame-ancestors 'none'`` in a CSP
(a strict one for the portals' pages, ``default-src 'none'`` for the API) and HSTS when TLS ends
in front of the gateway.
"""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api_gateway.adapters.rate_limits import RateLimits
from api_gateway.problem import error

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

PORTAL_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"


def client_ip(scope: Scope, trusted_proxies: int) -> str:
    """The caller's address: the socket peer, or the entry ``trusted_proxies`` hops back in
    X-Forwarded-For when that many proxies we run sit in front."""
    peer = scope.get("client")
    address = str(peer[0]) if peer else "unknown"
    if trusted_proxies <= 0:
        return address
    for name, value in scope["headers"]:
        if name == b"x-forwarded-for":
            text: str = value.decode("latin-1")
            hops = [hop.strip() for hop in text.split(",") if hop.strip()]
            if len(hops) >= trusted_proxies:
                return hops[-trusted_proxies]
    return address


def _security_headers(csp: str, hsts: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"content-security-policy", csp.encode()),
    ]
    if hsts:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return headers


class Edge:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: RateLimits,
        trusted_proxies: int = 0,
        hsts: bool = False,
    ) -> None:
        self.app = app
        self.limits = limits
        self.trusted_proxies = trusted_proxies
        # The headers every answer gets, built once: the portals' and the API's.
        self.portal_headers = _security_headers(PORTAL_CSP, hsts)
        self.api_headers = _security_headers(API_CSP, hsts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"").decode(
            "latin-1"
        )
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        ip = client_ip(scope, self.trusted_proxies)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["client_ip"] = ip
        path: str = scope["path"]
        extra = self.portal_headers if path.startswith(("/agent", "/portal")) else self.api_headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in extra if k not in present]
                if b"x-request-id" not in present:
                    headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        if path.startswith("/api/") and scope.get("method") != "OPTIONS":
            verdict = await self.limits.hit("ip", ip)
            if not verdict.allowed:
                response = error(429, "too many requests from your address; slow down", request_id)
                response.headers["Retry-After"] = str(verdict.retry_after)
                await response(scope, receive, send_with_headers)
                return
        await self.app(scope, receive, send_with_headers)
