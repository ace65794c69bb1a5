"""What every route module of the mail gateway shares: the error body, the gateway of the
running app, the managers' check and the Authorization header."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Request
from pydantic import BaseModel

from helpdesk_platform.auth import TokenVerifier
from helpdesk_platform.config_http import require_role
from mail_gateway.bootstrap import Gateway


class Problem(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem} for code in (400, 401, 403, 404, 409, 412, 422, 428)
}

Authorization = Annotated[str | None, Header()]
IfMatch = Annotated[str | None, Header()]


def gateway_of(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def manager(request: Request, authorization: str | None, action: str) -> None:
    """Refuse (401/403, :class:`helpdesk_platform.config_http.HttpRefusal`) unless a manager."""
    verifier: TokenVerifier = request.app.state.verifier
    require_role(verifier, authorization, action=action)
