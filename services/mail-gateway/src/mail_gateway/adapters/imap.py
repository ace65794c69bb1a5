"""One long-lived IMAP connection per account (aioimaplib): IDLE with a watchdog.

- ``idle_start`` has a timeout (it can hang when the server says BYE, aioimaplib #110); IDLE
  is renewed every ``renew_seconds`` (~25 min: RFC 2177 servers drop at 29);
- a dropped socket or BYE reconnects: a connection that had caught up is tried again after
  0.1 s, then 1 s doubling with each failure in a row up to 60 s. aioimaplib notices a
  lost connection but lets a pending command (and IDLE) wait for its own timeout, up to the
  25 minutes of an IDLE; so every wait of a session also ends when the connection is lost
  (:meth:`InboxWatcher._within`), and mail delivered meanwhile is read after the reconnect
  within about a second, not minutes later;
- after every (re)connect and every push, a catch-up by UID fetches every message not yet
  flagged ``\\Seen``; UIDVALIDITY is read on every SELECT and kept with what was read, so a
  mailbox rebuilt by the server is read again (idempotency keys make that harmless);
- a mail is flagged ``\\Seen`` only after the intake handled it (the ticket service answered),
  and then moved to the account's archive folder if it has one. A crash between the two
  leaves it in the inbox, read: it is handled either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, TypeVar

import aioimaplib
import structlog

from mail_gateway.domain.accounts import Account
from mail_gateway.domain.fetching import (
    FETCH_BYTES,
    FETCH_COUNT,
    fetch_timeout,
    message_sizes,
    next_fetch,
)

log = structlog.get_logger("mail_gateway.imap")

UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
FETCH_UID = re.compile(rb"UID (\d+)")
#: The pause before reconnecting after a connection that had caught up ended: at once, nearly
#: (a server restart or a dropped socket); each failure in a row doubles it, from 1 s to 60 s.
FIRST_RETRY = 0.1
T = TypeVar("T")


class Handled(Protocol):
    """What a batch handler reports: the UIDs to flag, and the error that stopped it."""

    @property
    def handled(self) -> list[int]: ...

    @property
    def error(self) -> BaseException | None: ...


#: A whole fetched batch ``(uid, raw)`` handled at once (``Intake.handle_batch``: one sender's
#: mails in order, the rest at once).
BatchHandler = Callable[[Account, int, Sequence[tuple[int, bytes]]], Awaitable[Handled]]


class ImapError(Exception):
    pass


@dataclass
class AccountStatus:
    state: str = "starting"
    connected: bool = False
    last_fetch: datetime | None = None
    last_error: str | None = None
    handled: int = 0
    reconnects: int = 0
    uidvalidity: int | None = None
    extra: dict[str, str] = field(default_factory=dict)


def server_tls_context() -> ssl.SSLContext:
    """How every TLS connection to an IMAP server is checked (implicit TLS and STARTTLS alike):
    the system's trust store (``SSL_CERT_FILE`` for a private CA, as the tests use) and the host
    name."""
    return ssl.create_default_context(ssl.Purpose.SERVER_AUTH)


async def upgrade_to_tls(
    imap: aioimaplib.IMAP4, host: str, port: int, context: ssl.SSLContext
) -> None:
    """STARTTLS (RFC 3501 §6.2.1) on a connection that has just been greeted in plain text.

    aioimaplib knows the command but cannot upgrade its connection, so the upgrade is done here
    under it: its protocol object stays the same and only gets the TLS transport asyncio's
    ``loop.start_tls`` makes of its plain one. Refused (``ImapError``; the caller closes the
    connection at once, :func:`_abandon`: a refused server gets nothing more, a LOGOUT neither),
    never logged in to in plain text: a server whose capabilities lack ``STARTTLS``, a
    ``PREAUTH`` greeting (already logged in before any TLS), a ``STARTTLS`` answered other than
    ``OK``, any byte after that ``OK`` before the handshake (a response injection: a whole line
    as much as a partial one, which aioimaplib would otherwise drop in plain text or read as
    said over TLS), a certificate not trusted. Nothing said in plain text counts after the
    upgrade: the capabilities are forgotten and asked again over TLS.
    """
    protocol = imap.protocol
    where = f"the IMAP server {host}:{port}"
    _refuse_before_starttls(protocol, where)
    await _starttls_answered_alone(protocol, where)
    try:
        protocol.transport = await protocol.loop.start_tls(
            protocol.transport, protocol, context, server_hostname=host
        )
    except ssl.SSLCertVerificationError as error:
        why = error.verify_message or error.strerror or str(error)
        raise ImapError(f"the IMAP server's certificate is not trusted: {why}") from None
    protocol.capabilities = set()
    await protocol.capability()


def _refuse_before_starttls(protocol: aioimaplib.IMAP4ClientProtocol, where: str) -> None:
    """Refuse a greeting that leaves nothing to upgrade: PREAUTH, or no STARTTLS offered."""
    if protocol.state != aioimaplib.NONAUTH:
        raise ImapError(f"{where} greeted as already logged in (PREAUTH) before STARTTLS: refused")
    if "STARTTLS" not in {offered.upper() for offered in protocol.capabilities}:
        raise ImapError(
            f"{where} does not offer STARTTLS: refused rather than sending the password "
            "unencrypted (use TLS mode ssl if the server has implicit TLS)"
        )


async def _starttls_answered_alone(protocol: aioimaplib.IMAP4ClientProtocol, where: str) -> None:
    """Send ``STARTTLS``; refused unless it is answered ``OK`` and nothing follows that answer.

    aioimaplib acts on a whole line after the ``OK`` at once (an untagged one it drops, leaving
    no trace) and keeps only a partial one (``incomplete_line``), so every line it handles until
    then is noted on its way in. That is its ``_handle_line`` (looked up on each read), not
    ``data_received``: uvloop, which the service runs on, keeps the transport's first binding of
    that one. No await lies between the check and ``loop.start_tls`` pausing the reading, so
    nothing can arrive unnoted in between.
    """
    handled: list[bytes] = []
    handle_line = protocol._handle_line

    def noting(line: bytes, current: aioimaplib.Command | None) -> aioimaplib.Command | None:
        handled.append(bytes(line))
        return handle_line(line, current)

    protocol._handle_line = noting
    command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
    try:
        response = await protocol.execute(command)
    finally:
        del protocol._handle_line  # aioimaplib's own method again
    if response.result != "OK":
        said = bytes(response.lines[-1]).decode(errors="replace")[:200] if response.lines else ""
        raise ImapError(f"{where} answered STARTTLS with {response.result}: refused ({said})")
    if lines_after_tagged_answer(handled, command.tag) or protocol.incomplete_line:
        raise ImapError(f"{where} sent data after its STARTTLS answer in plain text: refused")


def lines_after_tagged_answer(lines: Sequence[bytes], tag: str) -> list[bytes]:
    """The lines a server sent after the one that answers the command ``tag`` (``[]``: none);
    all of them when no line answers it (nothing in them is explained)."""
    for index, line in enumerate(lines):
        if line.startswith(tag.encode() + b" "):
            return list(lines[index + 1 :])
    return list(lines)


def _abandon(imap: aioimaplib.IMAP4) -> None:
    """Drop a connection without a LOGOUT: one that failed before it was kept (refused
    greeting, TLS, login or folder) or that the server already closed. The socket is closed
    now, not whenever the client is collected, and a connect still under way is cancelled."""
    if not imap._client_task.done():
        imap._client_task.cancel()
    transport = imap.protocol.transport if imap.protocol is not None else None
    if transport is not None:
        transport.close()


def _ok(response: aioimaplib.Response, what: str) -> aioimaplib.Response:
    if response.result != "OK":
        raise ImapError(f"{what}: {response.result} {response.lines[-1:]!r}")
    return response


class InboxWatcher:
    def __init__(
        self,
        account: Account,
        handle_batch: BatchHandler,
        *,
        renew_seconds: float = 25 * 60,
        connect_timeout: float = 15.0,
        fetch_bytes: int = FETCH_BYTES,
    ) -> None:
        self.account = account
        self.status = AccountStatus()
        self._handle_batch = handle_batch
        self._renew = renew_seconds
        self._timeout = connect_timeout
        self._fetch_bytes = fetch_bytes
        self._imap: aioimaplib.IMAP4 | None = None
        #: An ``EXISTS`` came since the last search. aioimaplib drops untagged responses that
        #: arrive while no command is pending (between the catch-up and IDLE): without this,
        #: a mail delivered in that gap would wait for the next one.
        self._exists = False
        #: Set when the current connection is lost (aioimaplib's ``conn_lost_cb``).
        self._lost = asyncio.Event()
        self._delay = FIRST_RETRY

    async def run(self, stop: asyncio.Event) -> None:
        self._delay = FIRST_RETRY
        while not stop.is_set():
            try:
                await self._session(stop)
                self._delay = FIRST_RETRY
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.status.connected = False
                self.status.state = "reconnecting"
                self.status.last_error = f"{type(error).__name__}: {error}"[:500]
                self.status.reconnects += 1
                log.warning("imap session ended", account=self.account.address,
                            error=self.status.last_error, retry_in=self._delay)  # fmt: skip
            finally:
                await self._close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._delay)
            self._delay = min(max(self._delay * 2, 1.0), 60.0)
        self.status.state = "stopped"

    async def _connect(self) -> aioimaplib.IMAP4:
        s = self.account.settings
        lost = self._lost = asyncio.Event()  # this connection's

        def noting_the_loss(error: Exception | None) -> None:
            lost.set()

        # IMAP4 with a TLS context is implicit TLS: IMAP4_SSL would not take the callback.
        imap = aioimaplib.IMAP4(
            s.imap_host, s.imap_port, timeout=self._timeout, conn_lost_cb=noting_the_loss,
            ssl_context=server_tls_context() if s.imap_tls == "ssl" else None,
        )  # fmt: skip
        try:
            await self._open(imap)
        except BaseException:
            _abandon(imap)
            raise
        return imap

    async def _open(self, imap: aioimaplib.IMAP4) -> None:
        """Greeting, TLS, login and folder on a new connection."""
        s = self.account.settings
        await self._within(imap.wait_hello_from_server(), self._timeout)
        if s.imap_tls == "starttls":
            await self._within(
                upgrade_to_tls(imap, s.imap_host, s.imap_port, server_tls_context()),
                self._timeout,
            )
        password = self.account.secrets.imap_password.get_secret_value()
        _ok(await self._within(imap.login(s.imap_user, password), self._timeout), "LOGIN")
        if s.archive_folder is not None:
            await self._prepare_archive(imap, s.archive_folder)
        selected = _ok(
            await self._within(imap.select(aioimaplib.quoted(s.imap_folder)), self._timeout),
            "SELECT",
        )
        for line in selected.lines:
            found = UIDVALIDITY.search(bytes(line))
            if found:
                self.status.uidvalidity = int(found.group(1))
        protocol = imap.protocol
        untagged = protocol._untagged_response

        def noting_exists(line: bytes) -> object:
            if line.rstrip().endswith(b"EXISTS"):
                self._exists = True
            return untagged(line)

        protocol._untagged_response = noting_exists

    async def _prepare_archive(self, imap: aioimaplib.IMAP4, folder: str) -> None:
        """The archive folder exists (created when missing) and the server can move mail."""
        if not imap.has_capability("MOVE"):
            raise ImapError(
                "the IMAP server cannot move mail (no MOVE, RFC 6851): leave the archive folder"
                " empty to keep handled mail in the inbox, marked read"
            )
        name = aioimaplib.quoted(folder)
        listed = _ok(await self._within(imap.list('""', name), self._timeout), "LIST")
        if len(listed.lines) < 2:  # only the completion line: no such folder
            _ok(await self._within(imap.create(name), self._timeout), "CREATE archive folder")

    async def _session(self, stop: asyncio.Event) -> None:
        self.status.state = "connecting"
        imap = self._imap = await self._connect()
        self.status.connected = True
        self.status.last_error = None
        while not stop.is_set():
            self.status.state = "fetching"
            while await self._catch_up(imap):
                pass
            self._delay = FIRST_RETRY  # caught up: the next failure retries soon again
            self.status.state = "idle"
            idle = await self._within(imap.idle_start(timeout=self._renew), self._timeout)
            if self._exists:  # mail came between the last search and IDLE: fetch it now
                imap.idle_done()
                await self._within(idle, self._timeout)
                continue
            waiting = asyncio.ensure_future(imap.wait_server_push(timeout=self._renew))
            stopping = asyncio.ensure_future(stop.wait())
            losing = asyncio.ensure_future(self._lost.wait())
            done, _ = await asyncio.wait(
                {waiting, stopping, losing}, timeout=self._renew + 5,
                return_when=asyncio.FIRST_COMPLETED,
            )  # fmt: skip
            stopping.cancel()
            losing.cancel()
            if self._lost.is_set():
                waiting.cancel()
                raise ImapError("the IMAP server closed the connection")
            if waiting in done:
                pushed = waiting.result()
                if isinstance(pushed, list) and any(b"BYE" in bytes(x) for x in pushed):
                    raise ImapError("server said BYE")
            else:
                waiting.cancel()
            if imap.has_pending_idle():
                imap.idle_done()
            await self._within(idle, self._timeout)

    async def _within(self, step: Awaitable[T], seconds: float) -> T:
        """``step``'s result within ``seconds`` (``TimeoutError`` after), or ``ImapError`` as
        soon as the connection is lost: aioimaplib would let the step wait for its timeout."""
        doing = asyncio.ensure_future(step)
        losing = asyncio.ensure_future(self._lost.wait())
        try:
            done, _ = await asyncio.wait(
                {doing, losing}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            losing.cancel()
        if doing in done:
            return doing.result()
        doing.cancel()
        if losing in done:
            raise ImapError("the IMAP server closed the connection")
        raise TimeoutError(f"no answer from the IMAP server within {seconds:.0f} s")

    async def _catch_up(self, imap: aioimaplib.IMAP4) -> bool:
        """Handle every unseen message (up to a batch); True when there may be more."""
        self._exists = False
        found = _ok(await self._within(imap.uid_search("UNSEEN"), 60), "UID SEARCH")
        uids = [int(u) for u in bytes(found.lines[0]).split() if u.isdigit()] if found.lines else []
        self.status.last_fetch = datetime.now(UTC)
        if not uids:
            return False
        batch, total = await self._next_fetch(imap, uids)
        # One command for the whole batch: a round trip per message costs ~45 ms (delayed ACKs).
        fetched = _ok(
            await self._within(
                imap.uid("fetch", ",".join(map(str, batch)), "(UID BODY.PEEK[])"),
                fetch_timeout(total),
            ),
            "UID FETCH",
        )
        raws = fetched_messages(fetched.lines)
        uidvalidity = self.status.uidvalidity or 0
        done = await self._handle_batch(self.account, uidvalidity, raws)
        self.status.handled += len(done.handled)
        await self._file_handled(imap, done.handled)
        if done.error is not None:
            raise done.error  # the rest stays unseen: reconnect, catch up again
        return len(uids) > len(batch)

    async def _next_fetch(self, imap: aioimaplib.IMAP4, uids: list[int]) -> tuple[list[int], int]:
        """The UIDs the next fetch takes (``domain.fetching``: by count and bytes) and their
        size. A lone unseen mail is fetched without asking its size first, as the common case at
        a quiet inbox is."""
        if len(uids) == 1:
            return uids, self._fetch_bytes  # its size unknown: the time a full fetch gets
        candidates = sorted(uids)[:FETCH_COUNT]
        sized = _ok(
            await self._within(
                imap.uid("fetch", ",".join(map(str, candidates)), "(UID RFC822.SIZE)"), 60
            ),
            "UID FETCH RFC822.SIZE",
        )
        sizes = message_sizes(sized.lines)
        batch = next_fetch(candidates, sizes, max_bytes=self._fetch_bytes)
        return batch, sum(sizes.get(uid, 0) for uid in batch)

    async def _file_handled(self, imap: aioimaplib.IMAP4, handled: list[int]) -> None:
        """Flag the handled mails ``\\Seen`` on the server, in one command, and move them to
        the account's archive folder when it has one (one more): the inbox then holds only
        mail not yet handled, which keeps every later command cheap on any server."""
        if not handled:
            return
        uid_set = ",".join(str(u) for u in sorted(handled))
        _ok(
            await self._within(imap.uid("store", uid_set, "+FLAGS.SILENT (\\Seen)"), 60),
            "UID STORE",
        )
        archive = self.account.settings.archive_folder
        if archive is not None:
            moved = imap.uid("move", uid_set, aioimaplib.quoted(archive))
            _ok(await self._within(moved, 60), "UID MOVE")

    async def probe(self) -> None:
        """Connect, log in and select the folder once, then log out: the managers' connection
        test of settings not yet saved. Raises what a session's connect would."""
        self._imap = await self._connect()
        await self._close()

    async def _close(self) -> None:
        imap, self._imap = self._imap, None
        self.status.connected = False
        if imap is None:
            return
        if self._lost.is_set():  # nobody to say LOGOUT to: it would wait its 5 s for an answer
            _abandon(imap)
            return
        with contextlib.suppress(Exception):
            if imap.has_pending_idle():
                imap.idle_done()
            await asyncio.wait_for(imap.logout(), 5)


def fetched_messages(lines: list[bytes | bytearray]) -> list[tuple[int, bytes]]:
    """``(uid, raw)`` from a FETCH response: each ``N FETCH (UID u BODY[] {size}`` line is
    followed by the message as a literal (aioimaplib gives literals as ``bytearray``)."""
    found: list[tuple[int, bytes]] = []
    uid: int | None = None
    for line in lines:
        if isinstance(line, bytearray):
            if uid is not None:
                found.append((uid, bytes(line)))
            uid = None
        elif b"FETCH" in line:
            match = FETCH_UID.search(line)
            uid = int(match.group(1)) if match else None
    return sorted(found)


async def _never(account: Account, uidvalidity: int, mails: Sequence[tuple[int, bytes]]) -> Handled:
    raise AssertionError("a connection test handles no mail")


async def check_inbox(account: Account, within: float = 10.0) -> str | None:
    """None when the account's IMAP login and folder work, else why not (no secret in it)."""
    try:
        await InboxWatcher(account, _never, connect_timeout=within).probe()
    except Exception as error:  # any failure is the test's answer (a bad host name too), not a 500
        return f"{type(error).__name__}: {error}"[:500] if str(error) else type(error).__name__
    return None
