"""The email accounts API (managers): list, add, read, replace and remove accounts with
If-Match versions, each account's inbox connection status, and the connection test of an
account's settings before they are saved. Parse, call
:class:`mail_gateway.service_layer.admin.EmailAccounts`, map its errors."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from helpdesk_platform.config_http import etag, expected_version
from mail_gateway.domain.accounts import Account, AccountSecrets, AccountSettings
from mail_gateway.entrypoints.http_common import (
    ERRORS,
    Authorization,
    IfMatch,
    gateway_of,
    manager,
)
from mail_gateway.service_layer.admin import (
    AccountConflict,
    AccountNotFound,
    DuplicateAddress,
    EmailAccounts,
)

router = APIRouter(tags=["accounts"], responses=ERRORS)


class AccountBody(AccountSettings):
    """The account's settings and, on create (or to change them), its passwords."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    secrets: AccountSecrets | None = Field(default=None, description="write-only")


class AccountView(AccountSettings):
    account_id: uuid.UUID
    version: int
    has_password: bool = True

    @classmethod
    def of(cls, account: Account) -> AccountView:
        return cls(
            account_id=account.account_id,
            version=account.version,
            **account.settings.model_dump(),
        )


class AccountStatusView(BaseModel):
    account_id: uuid.UUID
    address: str
    state: str
    connected: bool
    last_fetch: datetime | None
    last_error: str | None
    handled: int
    reconnects: int


class ConnectionTestView(BaseModel):
    ok: bool = Field(description="both servers took the login")
    imap_error: str | None = Field(description="why the IMAP login or folder failed")
    smtp_error: str | None = Field(description="why the SMTP server refused")


def _accounts(request: Request) -> EmailAccounts:
    return gateway_of(request).email_accounts


def _settings(body: AccountBody) -> AccountSettings:
    return AccountSettings(**body.model_dump(exclude={"secrets"}))


def _refusal(error: Exception) -> HTTPException:
    """The status of a use case's refusal."""
    if isinstance(error, AccountConflict):
        return HTTPException(404 if error.actual is None else 412, str(error))
    if isinstance(error, AccountNotFound):
        return HTTPException(404, str(error))
    return HTTPException(409, str(error))  # DuplicateAddress


REFUSED = (AccountConflict, AccountNotFound, DuplicateAddress)


@router.get("/accounts", response_model=list[AccountView])
async def list_accounts(request: Request, authorization: Authorization = None) -> Any:
    manager(request, authorization, "read email accounts")
    return [AccountView.of(a) for a in await _accounts(request).all()]


@router.post("/accounts", status_code=201, response_model=AccountView)
async def create_account(
    request: Request, body: AccountBody, response: Response, authorization: Authorization = None
) -> Any:
    """Add an email account (with its passwords in `secrets`, never shown again)."""
    manager(request, authorization, "add email accounts")
    if body.secrets is None:
        raise HTTPException(422, "a new account needs `secrets.imap_password`")
    try:
        account = await _accounts(request).create(_settings(body), body.secrets)
    except REFUSED as error:
        raise _refusal(error) from None
    response.headers["ETag"] = etag(account.version)
    response.headers["Location"] = f"/accounts/{account.account_id}"
    return AccountView.of(account)


@router.post("/accounts/test", response_model=ConnectionTestView)
async def connection_test(
    request: Request, body: AccountBody, authorization: Authorization = None
) -> Any:
    """The connection test of an account before it is added: log in to its IMAP server (and
    select the folder) and its SMTP server with these settings and passwords. Nothing is
    stored or sent; a server that refuses is a 200 with its reason, not an error."""
    manager(request, authorization, "test email accounts")
    if body.secrets is None:
        raise HTTPException(422, "a connection test needs `secrets.imap_password`")
    check = await _accounts(request).test_connection(_settings(body), body.secrets)
    return ConnectionTestView(ok=check.ok, imap_error=check.imap_error, smtp_error=check.smtp_error)


@router.get("/accounts/{account_id}", response_model=AccountView)
async def get_account(
    request: Request,
    account_id: uuid.UUID,
    response: Response,
    authorization: Authorization = None,
) -> Any:
    manager(request, authorization, "read email accounts")
    try:
        account = await _accounts(request).get(account_id)
    except REFUSED as error:
        raise _refusal(error) from None
    response.headers["ETag"] = etag(account.version)
    return AccountView.of(account)


@router.put("/accounts/{account_id}", response_model=AccountView)
async def replace_account(
    request: Request,
    account_id: uuid.UUID,
    body: AccountBody,
    response: Response,
    authorization: Authorization = None,
    if_match: IfMatch = None,
) -> Any:
    """Replace an account's settings (and passwords, if `secrets` is given). Send the
    version you read as `If-Match`; a stale one is a 412."""
    manager(request, authorization, "change email accounts")
    expected = expected_version(if_match, read_from=f"GET /accounts/{account_id}")
    try:
        account = await _accounts(request).replace(
            account_id, _settings(body), body.secrets, expected
        )
    except REFUSED as error:
        raise _refusal(error) from None
    response.headers["ETag"] = etag(account.version)
    return AccountView.of(account)


@router.delete("/accounts/{account_id}", status_code=204)
async def delete_account(
    request: Request,
    account_id: uuid.UUID,
    authorization: Authorization = None,
    if_match: IfMatch = None,
) -> Response:
    manager(request, authorization, "remove email accounts")
    expected = expected_version(if_match, read_from=f"GET /accounts/{account_id}")
    try:
        await _accounts(request).remove(account_id, expected)
    except REFUSED as error:
        raise _refusal(error) from None
    return Response(status_code=204)


@router.get("/accounts/{account_id}/status", response_model=AccountStatusView)
async def account_status(
    request: Request, account_id: uuid.UUID, authorization: Authorization = None
) -> Any:
    """The inbox connection: state, last fetch, last error, messages handled."""
    manager(request, authorization, "read email accounts")
    try:
        account, status = await _accounts(request).status(account_id)
    except REFUSED as error:
        raise _refusal(error) from None
    return AccountStatusView(
        account_id=account_id,
        address=account.address,
        state=status.state if status else "disabled",
        connected=status.connected if status else False,
        last_fetch=status.last_fetch if status else None,
        last_error=status.last_error if status else None,
        handled=status.handled if status else 0,
        reconnects=status.reconnects if status else 0,
    )
