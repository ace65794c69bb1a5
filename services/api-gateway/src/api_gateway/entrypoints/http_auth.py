"""Sign-in routes (``/api/auth/…``): parse, check the edge limits, call the sign-in service,
set or clear the refresh cookie, map refusals to statuses.

The refresh token lives only in an ``HttpOnly; Secure; SameSite=Strict`` cookie scoped to
``/api/auth``: page scripts cannot read it, other sites cannot send it, and API calls never
carry it. Requests that use the cookie must come from an allowed origin when the browser says
where they come from.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated
from urllib.parse import urlsplit

from aiosmtplib import SMTPException
from fastapi import APIRouter, Cookie, Header, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from api_gateway.bootstrap import Gateway
from api_gateway.domain.credentials import MAX_PASSWORD_LENGTH, Purpose, WeakPassword
from api_gateway.service_layer.errors import DirectoryUnavailable
from api_gateway.service_layer.sign_in import CUSTOMER, STAFF, Session, SignInError
from helpdesk_platform.auth import AuthenticationError, Principal

REFRESH_COOKIE = "helpdesk_refresh"
COOKIE_PATH = "/api/auth"

router = APIRouter(prefix="/api/auth", tags=["auth"])


class Problem(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": Problem},
    401: {"model": Problem},
    403: {"model": Problem},
    422: {"model": Problem},
    429: {"model": Problem, "description": "too many attempts; see Retry-After"},
    503: {"model": Problem},
}

Password = Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]
OneTimeToken = Annotated[str, Field(min_length=20, max_length=200)]


class SignInBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: EmailStr
    password: Password


class EmailBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: EmailStr


class RedeemBody(BaseModel):
    """Either the link's ``token``, or the ``email`` and the 6-digit ``code`` from the mail."""

    model_config = ConfigDict(extra="forbid")
    token: OneTimeToken | None = None
    email: EmailStr | None = None
    code: Annotated[str, Field(pattern=r"^\s*\d{6}\s*$")] | None = None

    @model_validator(mode="after")
    def _one_way(self) -> RedeemBody:
        if (self.token is None) == (self.email is None or self.code is None):
            raise ValueError("send either token, or email and code")
        return self


class SetPasswordBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: OneTimeToken
    password: Password


class TokenView(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme, not a secret
    expires_in: int = Field(description="seconds the access token is valid")


class MeView(BaseModel):
    sub: str
    role: str
    name: str | None
    email: str | None


class Accepted(BaseModel):
    detail: str


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


@contextmanager
def refusals() -> Iterator[None]:
    try:
        yield
    except SignInError as refused:
        headers = {"Retry-After": str(refused.retry_after)} if refused.retry_after else None
        raise HTTPException(refused.status, refused.detail, headers=headers) from None
    except WeakPassword as weak:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(weak)) from None
    except (SMTPException, OSError):
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "the mail server is not reachable; try again"
        ) from None
    except DirectoryUnavailable:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "the directory is not reachable; try again shortly"
        ) from None


async def limit(request: Request, email: str | None = None) -> None:
    """The sign-in limits: per client address and per email address."""
    gateway = _gateway(request)
    checks = [("auth-ip", request.state.client_ip)]
    if email:
        checks.append(("auth-account", email.strip().lower()))
    for name, identifier in checks:
        verdict = await gateway.limits.hit(name, identifier)
        if not verdict.allowed:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                "too many attempts; wait before trying again",
                headers={"Retry-After": str(verdict.retry_after)},
            )


def same_origin(request: Request) -> None:
    """Cookie-using calls from a browser must come from the gateway's own or an allowed origin."""
    origin = request.headers.get("origin")
    if origin is None:
        return
    settings = _gateway(request).settings
    public = urlsplit(settings.gateway_public_url)
    allowed = {f"{public.scheme}://{public.netloc}", *settings.gateway_cors_origins}
    if origin not in allowed and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"requests from {origin} are not allowed")


def issued(request: Request, session: Session) -> Response:
    response = Response(
        TokenView(access_token=session.access_token, expires_in=session.expires_in)
        .model_dump_json()
        .encode(),
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )
    response.set_cookie(
        REFRESH_COOKIE,
        session.refresh_token,
        expires=session.refresh_expires,
        path=COOKIE_PATH,
        secure=_gateway(request).settings.gateway_cookie_secure,
        httponly=True,
        samesite="strict",
    )
    return response


def signed_out(request: Request) -> Response:
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(
        REFRESH_COOKIE,
        path=COOKIE_PATH,
        secure=_gateway(request).settings.gateway_cookie_secure,
        httponly=True,
        samesite="strict",
    )
    return response


def caller(request: Request, authorization: str | None) -> Principal:
    try:
        return _gateway(request).keys.verify(authorization)
    except AuthenticationError as failure:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, str(failure), headers={"WWW-Authenticate": "Bearer"}
        ) from None


RefreshCookie = Annotated[str | None, Cookie(alias=REFRESH_COOKIE, max_length=200)]
Authorization = Annotated[str | None, Header()]


@router.post("/sign-in", response_model=TokenView, responses=ERRORS)
async def sign_in(body: SignInBody, request: Request) -> Response:
    """Staff sign-in by email and password: an access token, and the refresh cookie. After a
    few wrong passwords the account waits (30 s, doubling up to 15 min): 429 with Retry-After."""
    await limit(request, body.email)
    with refusals():
        session = await _gateway(request).sign_in.staff_sign_in(body.email, body.password)
    return issued(request, session)


@router.post("/refresh", response_model=TokenView, responses=ERRORS)
async def refresh(request: Request, cookie: RefreshCookie = None) -> Response:
    """A new access token for the refresh cookie, which is replaced (rotated). A refresh token
    used twice ends its whole session: someone else has a copy."""
    same_origin(request)
    if not cookie:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "no session; sign in")
    with refusals():
        session = await _gateway(request).sign_in.refresh(cookie)
    return issued(request, session)


@router.post("/sign-out", status_code=204, responses=ERRORS)
async def sign_out(request: Request, cookie: RefreshCookie = None) -> Response:
    """End this session (its refresh tokens); the access token expires by itself in minutes."""
    same_origin(request)
    if cookie:
        await _gateway(request).sign_in.sign_out(cookie)
    return signed_out(request)


@router.post("/sign-out-everywhere", status_code=204, responses=ERRORS)
async def sign_out_everywhere(request: Request, authorization: Authorization = None) -> Response:
    """End every session of the signed-in person, on every device."""
    who = caller(request, authorization)
    try:
        subject = uuid.UUID(who.subject)
    except ValueError:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "this token has no sessions (a development token)"
        ) from None
    kind = CUSTOMER if who.role.value == "customer" else STAFF
    await _gateway(request).sign_in.sign_out_everywhere(kind, subject)
    return signed_out(request)


@router.get("/me", response_model=MeView, responses=ERRORS)
async def me(request: Request, authorization: Authorization = None) -> MeView:
    """Who the access token says the caller is."""
    who = caller(request, authorization)
    return MeView(sub=who.subject, role=who.role.value, name=who.name, email=who.email)


async def _set_password(request: Request, body: SetPasswordBody, purpose: Purpose) -> Response:
    await limit(request)
    with refusals():
        session = await _gateway(request).sign_in.set_password(purpose, body.token, body.password)
    return issued(request, session)


async def _mail_link(
    request: Request, email: str, send: Callable[[str], Awaitable[None]], detail: str
) -> Accepted:
    await limit(request, email)
    with refusals():
        await send(email)
    return Accepted(detail=detail)


@router.post("/invitations/accept", response_model=TokenView, responses=ERRORS)
async def accept_invitation(body: SetPasswordBody, request: Request) -> Response:
    """Choose a password with the invitation link's token (once); signs the agent in."""
    return await _set_password(request, body, Purpose.INVITATION)


@router.post("/password-reset/confirm", response_model=TokenView, responses=ERRORS)
async def password_reset_confirm(body: SetPasswordBody, request: Request) -> Response:
    """Set a new password with the reset link's token (once); every other session ends."""
    return await _set_password(request, body, Purpose.PASSWORD_RESET)


@router.post("/password-reset", status_code=202, response_model=Accepted, responses=ERRORS)
async def password_reset(body: EmailBody, request: Request) -> Accepted:
    """Mail a password reset link to this address if it belongs to an active agent."""
    return await _mail_link(
        request,
        body.email,
        _gateway(request).sign_in.request_password_reset,
        "if this address has an account, a reset link is on its way",
    )


@router.post("/customer/link", status_code=202, response_model=Accepted, responses=ERRORS)
async def customer_link(body: EmailBody, request: Request) -> Accepted:
    """Mail a one-time sign-in link and code to a customer (always accepted)."""
    return await _mail_link(
        request,
        body.email,
        _gateway(request).sign_in.request_customer_link,
        "a sign-in link and code are on their way to this address",
    )


@router.post("/customer/redeem", response_model=TokenView, responses=ERRORS)
async def customer_redeem(body: RedeemBody, request: Request) -> Response:
    """Sign a customer in with the link's token, or with email and code (registering the
    customer in the directory when they have no record yet)."""
    await limit(request, body.email)
    service = _gateway(request).sign_in
    with refusals():
        if body.token is not None:
            session = await service.redeem_customer_link(body.token)
        else:
            assert body.email is not None
            assert body.code is not None
            session = await service.redeem_customer_code(body.email, body.code)
    return issued(request, session)
