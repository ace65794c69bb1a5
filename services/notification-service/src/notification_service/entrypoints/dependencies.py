"""Who calls: bearer tokens as in every helpdesk service, and on the stream route also a
short-lived ``?access_token=`` (a browser's ``EventSource`` cannot send headers)."""

from __future__ import annotations

import time
from typing import Annotated

import jwt
from fastapi import Depends, Header, HTTPException, Query, Request, status

from helpdesk_platform.auth import (
    STAFF_ROLES,
    AuthenticationError,
    Principal,
    Role,
    TokenVerifier,
)

#: Sequence numbers are PostgreSQL bigints: anything larger is bad input, not a server error.
MAX_SEQ = 2**63 - 1


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"}
    )


async def principal(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    verifier: TokenVerifier = request.app.state.verifier
    try:
        return verifier.verify(authorization)
    except AuthenticationError as error:
        raise _unauthorized(str(error)) from None


async def stream_principal(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    access_token: Annotated[
        str | None,
        Query(
            description="for EventSource, which cannot send headers: a token that expires "
            "within HELPDESK_STREAM_QUERY_TOKEN_MAX_TTL seconds (15 minutes by default)"
        ),
    ] = None,
) -> Principal:
    if authorization or not access_token:
        return await principal(request, authorization)
    verifier: TokenVerifier = request.app.state.verifier
    try:
        caller = verifier.verify(f"Bearer {access_token}")
    except AuthenticationError as error:
        raise _unauthorized(str(error)) from None
    # Verified above; read exp only to refuse long-lived tokens in URLs (proxies log URLs).
    claims = jwt.decode(access_token, options={"verify_signature": False})
    max_ttl: int = request.app.state.settings.stream_query_token_max_ttl
    if float(claims["exp"]) - time.time() > max_ttl:
        raise _unauthorized(
            f"an access_token in the URL must expire within {max_ttl} s; send longer-lived "
            "tokens in the Authorization header"
        )
    return caller


async def manager(caller: Annotated[Principal, Depends(principal)]) -> Principal:
    if caller.role is not Role.MANAGER:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only managers manage webhooks")
    return caller


def _staff_only(caller: Principal) -> Principal:
    """Notifications are staff's (assignments, mentions, SLA warnings on their tickets):
    customers hear from the helpdesk by email, and following a ticket by its id would tell a
    customer about tickets that are not theirs (#11)."""
    if caller.role not in STAFF_ROLES:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "notifications are for the helpdesk's staff")
    return caller


async def staff(caller: Annotated[Principal, Depends(principal)]) -> Principal:
    return _staff_only(caller)


async def stream_staff(caller: Annotated[Principal, Depends(stream_principal)]) -> Principal:
    return _staff_only(caller)


Caller = Annotated[Principal, Depends(staff)]
StreamCaller = Annotated[Principal, Depends(stream_staff)]
Manager = Annotated[Principal, Depends(manager)]
