"""Sign-in use cases: staff by password (set through an emailed invitation, reset by email),
customers by an emailed one-time link or code, refresh-token rotation, sign-out.

Answers never tell a stranger whether an email has an account: the "send me a link" calls
are always accepted, and a wrong email costs the same password hash as a wrong password.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from api_gateway.adapters.accounts import Accounts, RefreshReused, StaffAccount
from api_gateway.adapters.directory import TicketDirectory
from api_gateway.adapters.mailer import Mailer
from api_gateway.adapters.signing import KeyRing
from api_gateway.domain.credentials import (
    MAX_CODE_ATTEMPTS,
    Purpose,
    check_password_policy,
    code_digest,
    digest,
    invitation_expired,
    lockout_after,
    new_code,
    new_secret,
    normalise_email,
    same_digest,
)
from helpdesk_events import EventEnvelope
from helpdesk_platform.mail_branding import MailBranding

log = structlog.get_logger()

STAFF = "staff"
CUSTOMER = "customer"


class SignInError(Exception):
    """A sign-in request refused; ``status`` is the HTTP status that says so."""

    status = 401

    def __init__(self, detail: str, *, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


class Locked(SignInError):
    status = 429


class Deactivated(SignInError):
    status = 403


class InvalidLink(SignInError):
    status = 400


@dataclass(frozen=True)
class Session:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires: datetime


@dataclass(frozen=True)
class Lifetimes:
    access: timedelta
    refresh: timedelta
    invitation: timedelta
    reset: timedelta
    customer_link: timedelta


def password_hasher() -> PasswordHash:
    """argon2id at OWASP's minimum for it (19 MiB, 2 passes, 1 lane) rather than pwdlib's
    recommended 64 MiB, 3 passes, 4 lanes: one verification took 286-385 ms against 47-59 ms on
    this 2-core machine at load 4 (issue #17: most of sign-in → first row). Hashes made with
    other parameters still verify (argon2 reads them from the hash) and are rehashed with these
    at the next sign-in (``verify_and_update``)."""
    return PasswordHash((Argon2Hasher(time_cost=2, memory_cost=19 * 1024, parallelism=1),))


def utc_now() -> datetime:
    return datetime.now(UTC)


async def _default_branding() -> MailBranding:
    return MailBranding()


class SignInService:
    def __init__(
        self,
        accounts: Accounts,
        keys: KeyRing,
        mailer: Mailer,
        directory: TicketDirectory,
        *,
        public_url: str,
        lifetimes: Lifetimes,
        branding: Callable[[], Awaitable[MailBranding]] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.accounts = accounts
        self.keys = keys
        self.mailer = mailer
        self.directory = directory
        self.public_url = public_url.rstrip("/")
        self.lifetimes = lifetimes
        self.branding = branding or _default_branding
        self.clock = clock
        self.hasher = password_hasher()
        self._dummy_hash = self.hasher.hash("not a password of anyone")

    # --- tokens ----------------------------------------------------------------------------------

    async def _session(
        self,
        kind: str,
        subject: uuid.UUID,
        role: str,
        name: str | None,
        email: str | None,
        family: uuid.UUID | None = None,
    ) -> Session:
        now = self.clock()
        access = self.keys.sign(
            subject=str(subject),
            role=role,
            name=name,
            email=email,
            now=now,
            lifetime=self.lifetimes.access,
        )
        refresh = new_secret()
        expires = now + self.lifetimes.refresh
        await self.accounts.add_refresh(
            refresh.digest, family or uuid.uuid4(), kind, subject, expires
        )
        return Session(access, int(self.lifetimes.access.total_seconds()), refresh.value, expires)

    async def _hash(self, password: str) -> str:
        # ~50 ms of CPU: off the event loop, so the proxy keeps flowing meanwhile.
        return await asyncio.to_thread(self.hasher.hash, password)

    # --- staff -----------------------------------------------------------------------------------

    async def staff_sign_in(self, email: str, password: str) -> Session:
        now = self.clock()
        account = await self.accounts.staff_by_email(normalise_email(email))
        if account is not None and account.locked_until is not None and account.locked_until > now:
            wait = int((account.locked_until - now).total_seconds()) + 1
            raise Locked(
                f"too many wrong passwords: try again in {wait} s or reset your password",
                retry_after=wait,
            )
        stored = account.password_hash if account and account.password_hash else self._dummy_hash
        valid, updated = await asyncio.to_thread(self.hasher.verify_and_update, password, stored)
        if account is None or account.password_hash is None or not valid:
            if account is not None:
                lock = lockout_after(account.failed_attempts + 1)
                await self.accounts.record_failure(account.agent_id, now + lock if lock else None)
            raise SignInError("wrong email or password")
        if not account.active:
            raise Deactivated("your account is deactivated; ask a manager")
        await self.accounts.record_success(account.agent_id, updated)
        return await self._staff_session(account)

    async def _staff_session(
        self, account: StaffAccount, family: uuid.UUID | None = None
    ) -> Session:
        return await self._session(
            STAFF, account.agent_id, account.role, account.name, account.email, family
        )

    async def set_password(self, purpose: Purpose, token: str, password: str) -> Session:
        """Choose a password with an invitation or reset link (used once); signs in."""
        now = self.clock()
        # Policy first, so that a weak password does not spend the link.
        subject = await self._peek_subject(purpose, token)
        account = await self.accounts.staff_by_id(uuid.UUID(subject))
        if account is None:
            raise InvalidLink("this link is not valid (any more); ask for a new one")
        check_password_policy(password, email=account.email)
        if await self.accounts.consume(purpose, digest(token), now) is None:
            raise InvalidLink("this link is not valid (any more); ask for a new one")
        if not account.active:
            raise Deactivated("your account is deactivated; ask a manager")
        await self.accounts.set_password(account.agent_id, await self._hash(password))
        # A new password ends every other session (someone may know the old one).
        await self.accounts.revoke_subject(STAFF, account.agent_id, now)
        log.info("password set", agent_id=str(account.agent_id), purpose=purpose.value)
        return await self._staff_session(account)

    async def _peek_subject(self, purpose: Purpose, token: str) -> str:
        subject = await self.accounts.open_subject(purpose, digest(token), self.clock())
        if subject is None:
            raise InvalidLink("this link is not valid (any more); ask for a new one")
        return subject

    async def request_password_reset(self, email: str) -> None:
        account = await self.accounts.staff_by_email(normalise_email(email))
        if account is None or not account.active:
            return  # the same answer either way: nothing reveals who has an account
        secret = new_secret()
        await self.accounts.add_one_time(
            Purpose.PASSWORD_RESET,
            str(account.agent_id),
            secret.digest,
            self.clock() + self.lifetimes.reset,
            replace_open=True,
        )
        minutes = int(self.lifetimes.reset.total_seconds() // 60)
        await self._mail(
            account.email,
            "Reset your helpdesk password",
            f"Hello {account.name},\n\nsomeone (hopefully you) asked to reset your helpdesk "
            f"password. Choose a new one here within {minutes} minutes:\n\n"
            f"{self.public_url}/agent/reset-password?token={secret.value}\n\n"
            "If it was not you, ignore this message: your password stays as it is.\n",
        )
        await self.accounts.mark_sent(secret.digest)

    async def _mail(self, to: str, subject: str, body: str) -> None:
        """Send in the helpdesk's branding: its name as the sender and under the text, its
        logo and accent colour in the HTML part."""
        await self.mailer.send(to, subject, body, branding=await self.branding())

    # --- customers -------------------------------------------------------------------------------

    async def request_customer_link(self, email: str) -> None:
        address = normalise_email(email)
        secret = new_secret()
        code = new_code()
        await self.accounts.add_one_time(
            Purpose.CUSTOMER_SIGN_IN,
            address,
            secret.digest,
            self.clock() + self.lifetimes.customer_link,
            code_hash=code_digest(secret.digest, code),
            replace_open=True,
        )
        minutes = int(self.lifetimes.customer_link.total_seconds() // 60)
        await self._mail(
            address,
            f"Your helpdesk sign-in code: {code}",
            "Hello,\n\nsign in to the helpdesk to follow your tickets with this link:\n\n"
            f"{self.public_url}/portal/sign-in?token={secret.value}\n\n"
            f"or enter this code: {code}\n\n"
            f"The link and the code work once, for {minutes} minutes. If you did not ask to "
            "sign in, ignore this message.\n",
        )
        await self.accounts.mark_sent(secret.digest)

    async def redeem_customer_link(self, token: str) -> Session:
        email = await self.accounts.consume(Purpose.CUSTOMER_SIGN_IN, digest(token), self.clock())
        if email is None:
            raise InvalidLink("this sign-in link is not valid (any more); ask for a new one")
        return await self._customer_session(email)

    async def redeem_customer_code(self, email: str, code: str) -> Session:
        address = normalise_email(email)
        now = self.clock()
        row = await self.accounts.open_code(Purpose.CUSTOMER_SIGN_IN, address, now)
        wrong = InvalidLink("wrong or expired code; ask for a new one")
        if row is None:
            raise wrong
        if not same_digest(row.code_hash, code_digest(row.token_hash, code.strip())):
            await self.accounts.wrong_code(row.token_hash, MAX_CODE_ATTEMPTS)
            raise wrong
        if await self.accounts.consume(Purpose.CUSTOMER_SIGN_IN, row.token_hash, now) is None:
            raise wrong
        return await self._customer_session(address)

    async def _customer_session(self, email: str, family: uuid.UUID | None = None) -> Session:
        contact = await self.directory.register_customer(email)
        await self.accounts.remember_customer(contact.id, email, contact.name, self.clock())
        return await self._session(CUSTOMER, contact.id, "customer", contact.name, email, family)

    # --- refresh and sign-out --------------------------------------------------------------------

    async def refresh(self, token: str) -> Session:
        try:
            grant = await self.accounts.use_refresh(digest(token), self.clock())
        except RefreshReused:
            log.warning("refresh token reused: family revoked")
            raise SignInError(
                "this session was ended (its refresh token was used twice); sign in again"
            ) from None
        if grant is None:
            raise SignInError("no valid session; sign in again")
        if grant.kind == STAFF:
            account = await self.accounts.staff_by_id(grant.subject)
            if account is None or not account.active:
                await self.accounts.revoke_subject(STAFF, grant.subject, self.clock())
                raise Deactivated("your account is deactivated; ask a manager")
            return await self._staff_session(account, grant.family_id)
        known = await self.accounts.customer(grant.subject)
        if known is None:
            raise SignInError("no valid session; sign in again")
        email, name = known
        return await self._session(
            CUSTOMER, grant.subject, "customer", name, email, grant.family_id
        )

    async def sign_out(self, token: str) -> None:
        await self.accounts.revoke_refresh(digest(token), self.clock())

    async def sign_out_everywhere(self, kind: str, subject: uuid.UUID) -> int:
        return await self.accounts.revoke_subject(kind, subject, self.clock())

    # --- the directory ---------------------------------------------------------------------------

    async def on_directory_event(self, envelope: EventEnvelope) -> None:
        """Follow agents: invitations (mailed), role changes, deactivation (sessions end)."""
        agent_id, version = envelope.stream_id, envelope.stream_version
        data = envelope.data
        if envelope.event_type == "AgentInvited":
            account = await self.accounts.upsert_staff(
                agent_id, normalise_email(data["email"]), data["name"], data["role"], version
            )
            if account.password_hash is not None:
                return  # already signed up: nothing to mail
            if invitation_expired(envelope.occurred_at, self.lifetimes.invitation, self.clock()):
                log.info("expired invitation not mailed", agent_id=str(agent_id))
                return
            await self._invite(account, envelope.event_id)
        elif envelope.event_type == "AgentRoleChanged":
            await self.accounts.change_staff(agent_id, version, role=data["to_role"])
        elif envelope.event_type == "AgentDeactivated":
            await self.accounts.change_staff(agent_id, version, active=False)
            await self.accounts.revoke_subject(STAFF, agent_id, self.clock())
        elif envelope.event_type == "AgentReactivated":
            await self.accounts.change_staff(agent_id, version, active=True)

    async def _invite(self, account: StaffAccount, event_id: uuid.UUID) -> None:
        """Mail the invitation of directory event ``event_id`` unless it was mailed already
        (by this gateway before a restart, or by another one sharing its store)."""
        secret = new_secret()
        expires_at = self.clock() + self.lifetimes.invitation
        subject = str(account.agent_id)
        async with self.accounts.invitation_claim(
            subject, secret.digest, expires_at, event_id
        ) as claimed:
            if not claimed:
                return
            hours = int(self.lifetimes.invitation.total_seconds() // 3600)
            await self._mail(
                account.email,
                "You are invited to the helpdesk",
                f"Hello {account.name},\n\nyou have been invited to the helpdesk as "
                f"{account.role}. Choose your password here (the link works once, for {hours} "
                f"hours):\n\n{self.public_url}/agent/accept-invitation?token={secret.value}\n\n"
                "Then sign in with this email address and your password.\n",
            )
        log.info("invitation sent", agent_id=str(account.agent_id))

    # --- bootstrap -------------------------------------------------------------------------------

    async def bootstrap_manager(self, email: str, name: str, password: str) -> StaffAccount:
        """The first manager: an agent in the directory (made now if absent) with a password."""
        address = normalise_email(email)
        check_password_policy(password, email=address)
        agent = await self.directory.agent_by_email(address)
        if agent is None:
            agent = await self.directory.invite_agent(address, name, "manager")
        account = await self.accounts.upsert_staff(agent.id, address, agent.name, agent.role, 0)
        if account.password_hash is None or not self.hasher.verify(password, account.password_hash):
            await self.accounts.set_password(agent.id, await self._hash(password))
        return account
