"""HTTP API of the mail gateway: health (each account's connection state), email accounts
(managers, If-Match versions), per-account status, and the quarantine (list, raw, release,
discard). The lifespan runs the IMAP watchers, the ticket topic consumer and the send queue."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

import structlog
from fastapi import FastAPI, Header, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from helpdesk_platform.auth import TokenVerifier
from helpdesk_platform.config_http import HttpRefusal, etag, expected_version, require_role
from mail_gateway.adapters.accounts import (
    AccountConflict,
    AccountEventPublisher,
    DuplicateAddress,
)
from mail_gateway.bootstrap import Gateway, build
from mail_gateway.domain.accounts import Account, AccountSecrets, AccountSettings
from mail_gateway.settings import Settings

log = structlog.get_logger("mail_gateway")


class Problem(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem} for code in (400, 401, 403, 404, 409, 412, 422, 428)
}


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


class QuarantinedView(BaseModel):
    quarantine_id: uuid.UUID
    account_id: uuid.UUID
    reason: str
    sender: str | None
    subject: str | None
    state: str
    ticket_id: uuid.UUID | None
    received_at: datetime
    size_bytes: int


def gateway_of(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def manager(request: Request, authorization: str | None, action: str) -> None:
    verifier: TokenVerifier = request.app.state.verifier
    require_role(verifier, authorization, action=action)


Authorization = Annotated[str | None, Header()]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.verifier = TokenVerifier.from_file(settings.jwt_public_key_file)
        gateway = await build(settings)
        app.state.gateway = gateway
        stop = asyncio.Event()
        app.state.stop = stop
        await gateway.sync_watchers()
        gateway.tasks = [
            asyncio.create_task(gateway.consume(stop), name="tickets-consumer"),
            asyncio.create_task(gateway.send_loop(stop), name="send-queue"),
            asyncio.create_task(gateway.resync_loop(stop), name="accounts-resync"),
            asyncio.create_task(
                AccountEventPublisher(gateway.pool, settings.kafka_bootstrap).run(stop),
                name="account-events",
            ),
        ]
        log.info("mail-gateway ready", port=settings.http_port)
        try:
            yield
        finally:
            stop.set()
            await gateway.stop_all()
            for task in gateway.tasks:
                with contextlib.suppress(BaseException):
                    await asyncio.wait_for(task, 10)
            await gateway.api.close()
            await gateway.pool.close()

    app = FastAPI(
        title="Helpdesk mail gateway",
        version="0.1.0",
        description="Support inboxes become tickets; agents' replies go out as threaded email. "
        "Managers configure email accounts and handle quarantined mail here.",
        lifespan=lifespan,
    )

    @app.exception_handler(HttpRefusal)
    async def refused(request: Request, error: HttpRefusal) -> JSONResponse:
        return JSONResponse({"detail": error.detail}, status_code=error.status)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses={503: {"model": Problem}})
    async def readyz(request: Request) -> JSONResponse:
        """Ready when the database answers and the ticket topic is followed; lists each
        account's IMAP connection state."""
        gateway = gateway_of(request)
        problems: list[str] = []
        try:
            await gateway.pool.fetchval("SELECT 1")
        except Exception as error:
            problems.append(f"database: {error}")
        if not gateway.consumer_ready:
            problems.append("not yet following helpdesk.tickets.v1")
        accounts = {
            watcher.account.address: watcher.status.state
            for watcher, _, _ in gateway.watchers.values()
        }
        body = {"status": "ready" if not problems else "not ready", "accounts": accounts}
        if problems:
            body["detail"] = "; ".join(problems)
        return JSONResponse(body, status_code=503 if problems else 200)

    # --- accounts ----------------------------------------------------------------------------

    @app.get("/accounts", response_model=list[AccountView], tags=["accounts"], responses=ERRORS)
    async def list_accounts(request: Request, authorization: Authorization = None) -> Any:
        manager(request, authorization, "read email accounts")
        return [AccountView.of(a) for a in await gateway_of(request).accounts.all()]

    @app.post(
        "/accounts", status_code=201, response_model=AccountView, tags=["accounts"],
        responses=ERRORS,
    )  # fmt: skip
    async def create_account(
        request: Request, body: AccountBody, response: Response,
        authorization: Authorization = None,
    ) -> Any:  # fmt: skip
        """Add an email account (with its passwords in `secrets`, never shown again)."""
        manager(request, authorization, "add email accounts")
        if body.secrets is None:
            raise HTTPException(422, "a new account needs `secrets.imap_password`")
        gateway = gateway_of(request)
        try:
            account = await gateway.accounts.create(_settings(body), body.secrets)
        except DuplicateAddress as error:
            raise HTTPException(409, str(error)) from None
        await gateway.sync_watchers()
        response.headers["ETag"] = etag(account.version)
        response.headers["Location"] = f"/accounts/{account.account_id}"
        return AccountView.of(account)

    @app.get(
        "/accounts/{account_id}", response_model=AccountView, tags=["accounts"], responses=ERRORS
    )
    async def get_account(
        request: Request, account_id: uuid.UUID, response: Response,
        authorization: Authorization = None,
    ) -> Any:  # fmt: skip
        manager(request, authorization, "read email accounts")
        account = await _account(request, account_id)
        response.headers["ETag"] = etag(account.version)
        return AccountView.of(account)

    @app.put(
        "/accounts/{account_id}", response_model=AccountView, tags=["accounts"], responses=ERRORS
    )
    async def replace_account(
        request: Request, account_id: uuid.UUID, body: AccountBody, response: Response,
        authorization: Authorization = None, if_match: Annotated[str | None, Header()] = None,
    ) -> Any:  # fmt: skip
        """Replace an account's settings (and passwords, if `secrets` is given). Send the
        version you read as `If-Match`; a stale one is a 412."""
        manager(request, authorization, "change email accounts")
        expected = expected_version(if_match, read_from=f"GET /accounts/{account_id}")
        gateway = gateway_of(request)
        try:
            account = await gateway.accounts.update(
                account_id, _settings(body), body.secrets, expected
            )
        except AccountConflict as error:
            raise HTTPException(404 if error.actual is None else 412, str(error)) from None
        except DuplicateAddress as error:
            raise HTTPException(409, str(error)) from None
        await gateway.sync_watchers()
        response.headers["ETag"] = etag(account.version)
        return AccountView.of(account)

    @app.delete("/accounts/{account_id}", status_code=204, tags=["accounts"], responses=ERRORS)
    async def delete_account(
        request: Request, account_id: uuid.UUID, authorization: Authorization = None,
        if_match: Annotated[str | None, Header()] = None,
    ) -> Response:  # fmt: skip
        manager(request, authorization, "remove email accounts")
        expected = expected_version(if_match, read_from=f"GET /accounts/{account_id}")
        gateway = gateway_of(request)
        try:
            await gateway.accounts.delete(account_id, expected)
        except AccountConflict as error:
            raise HTTPException(404 if error.actual is None else 412, str(error)) from None
        await gateway.sync_watchers()
        return Response(status_code=204)

    @app.get(
        "/accounts/{account_id}/status", response_model=AccountStatusView, tags=["accounts"],
        responses=ERRORS,
    )  # fmt: skip
    async def account_status(
        request: Request, account_id: uuid.UUID, authorization: Authorization = None
    ) -> Any:
        """The inbox connection: state, last fetch, last error, messages handled."""
        manager(request, authorization, "read email accounts")
        account = await _account(request, account_id)
        entry = gateway_of(request).watchers.get(account_id)
        status = entry[0].status if entry else None
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

    # --- quarantine --------------------------------------------------------------------------

    @app.get(
        "/quarantine", response_model=list[QuarantinedView], tags=["quarantine"], responses=ERRORS
    )
    async def quarantine(
        request: Request, state: str | None = "held", authorization: Authorization = None
    ) -> Any:
        """Mail that could not become a ticket as it was (unparsable, no sender, rate limit,
        a report about an unknown mail), kept whole."""
        manager(request, authorization, "read quarantined mail")
        rows = await gateway_of(request).store.quarantined(None if state == "all" else state)
        return [QuarantinedView(**dict(row)) for row in rows]

    @app.get("/quarantine/{quarantine_id}/raw", tags=["quarantine"], responses=ERRORS)
    async def quarantined_raw(
        request: Request, quarantine_id: uuid.UUID, authorization: Authorization = None
    ) -> Response:
        manager(request, authorization, "read quarantined mail")
        row = await _held(gateway_of(request), quarantine_id, held=False)
        return Response(bytes(row["raw"]), media_type="message/rfc822")

    @app.post(
        "/quarantine/{quarantine_id}/release", response_model=QuarantinedView,
        tags=["quarantine"], responses=ERRORS,
    )  # fmt: skip
    async def release(
        request: Request, quarantine_id: uuid.UUID, authorization: Authorization = None
    ) -> Any:
        """Turn a quarantined mail into a ticket (or a message on the ticket it answers)."""
        manager(request, authorization, "release quarantined mail")
        gateway = gateway_of(request)
        row = await _held(gateway, quarantine_id)
        account = await gateway.accounts.get(row["account_id"])
        if account is None:
            raise HTTPException(409, "its email account was removed; discard it instead")
        try:
            outcome = await gateway.intake.release(account, bytes(row["raw"]))
        except Exception as error:
            raise HTTPException(422, f"cannot make a ticket of it: {error}") from None
        await gateway.store.settle_quarantine(quarantine_id, "released", outcome.ticket_id)
        return await _quarantined(gateway, quarantine_id)

    @app.post(
        "/quarantine/{quarantine_id}/discard", response_model=QuarantinedView,
        tags=["quarantine"], responses=ERRORS,
    )  # fmt: skip
    async def discard(
        request: Request, quarantine_id: uuid.UUID, authorization: Authorization = None
    ) -> Any:
        manager(request, authorization, "discard quarantined mail")
        gateway = gateway_of(request)
        await _held(gateway, quarantine_id)
        if not await gateway.store.settle_quarantine(quarantine_id, "discarded"):
            await _held(gateway, quarantine_id)  # settled meanwhile: say how
        return await _quarantined(gateway, quarantine_id)

    return app


async def _quarantined(gateway: Gateway, quarantine_id: uuid.UUID) -> QuarantinedView:
    rows = await gateway.store.quarantined(None)
    row = next(r for r in rows if r["quarantine_id"] == quarantine_id)
    return QuarantinedView(**dict(row))


async def _held(gateway: Gateway, quarantine_id: uuid.UUID, *, held: bool = True) -> Any:
    """The quarantined mail (404 if unknown); with ``held``, 409 if already settled."""
    row = await gateway.store.quarantined_one(quarantine_id)
    if row is None:
        raise HTTPException(404, f"no quarantined mail {quarantine_id}")
    if held and row["state"] != "held":
        raise HTTPException(409, f"the mail was already {row['state']}")
    return row


async def _account(request: Request, account_id: uuid.UUID) -> Account:
    account = await gateway_of(request).accounts.get(account_id)
    if account is None:
        raise HTTPException(404, f"no email account {account_id}")
    return account


def _settings(body: AccountBody) -> AccountSettings:
    return AccountSettings(**body.model_dump(exclude={"secrets"}))
