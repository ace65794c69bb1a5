"""An IMAP STARTTLS front for GreenMail, for the mail gateway's tests.

Why it exists: an inbox's TLS mode may be ``starttls`` (port 143 upgraded, what Dovecot and
Exchange offer), but GreenMail announces no STARTTLS on IMAP - it has plain IMAP and IMAPS only -
so that mode would never run against a server. This front behaves like such a server's port 143
and leaves the mailboxes to GreenMail:

- it listens in plain text and, for each client, connects to GreenMail's plain IMAP port and
  passes its greeting on;
- before TLS it adds ``STARTTLS`` and ``LOGINDISABLED`` to every capability answer (the
  ``* CAPABILITY`` line and a ``[CAPABILITY ...]`` code), answers ``STARTTLS`` itself
  (``OK Begin TLS negotiation now``) and upgrades its side to TLS with the throwaway
  certificate of :mod:`helpdesk_devstack.tls`, refuses ``LOGIN`` and ``AUTHENTICATE``
  (``NO [PRIVACYREQUIRED]``, RFC 3501 §6.2.3 and §7.2.1, RFC 5530) and relays any other
  command (``CAPABILITY``, ``NOOP``, ``LOGOUT``) to GreenMail;
- after TLS it relays bytes both ways unchanged (GreenMail's own capabilities, without
  ``STARTTLS``, as RFC 3501 §6.2.1 wants after the upgrade);
- it records, as JSON lines (:meth:`ImapStartTlsFront.events`), every command it saw before TLS
  (its name only, never its arguments: no password), the upgrade, a failed handshake and the
  end of the session, so a test checks that the client never logged in in plain text.

``--plain`` turns it into a server that does not offer STARTTLS: it relays everything (a
``LOGIN`` too) unchanged and records the commands, so a test sees that a client asked to use
STARTTLS refused such a server without sending its login.

``--misbehave MODE`` (:class:`Misbehaviour`) makes it a hostile or broken STARTTLS server, each
mode what such a server (or a man in the middle) really puts on the wire, so a test sees that the
client refuses it before any login:

- ``preauth``: it greets ``* PREAUTH`` instead of ``* OK`` (logged in before any TLS), still
  offering STARTTLS;
- ``refuse-starttls``: it answers ``STARTTLS`` with ``<tag> NO`` and stays in plain text;
- ``inject-after-ok``: it answers ``STARTTLS`` with ``<tag> OK Begin TLS negotiation now`` and,
  in the same write, a whole plain-text line (``* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN]``,
  capabilities without STARTTLS and LOGINDISABLED) before it expects the handshake: a response
  injection, the mirror image of the command injection of CVE-2011-0411;
- ``inject-partial-after-ok``: the same with the start of that line only (no CRLF), which a
  client that buffers lines would read as the first thing said over TLS.

It records what it saw as an honest front does, so the test also checks that no LOGIN came.

``SIGUSR1`` (:meth:`ImapStartTlsFront.drop_connections`) drops every client's connection at
once, without a ``BYE`` or a TLS close: what a server crash, a restart or a middlebox does to
a client in the middle of IDLE or of a command. GreenMail itself does that now and then under
load (its issue #343), which is how the gateway's blindness to it was found.

It runs as a process of its own (``python -m helpdesk_devstack.imap_starttls``, started by
:class:`LocalImapStartTlsFront`; :mod:`helpdesk_devstack.mail_front`), like GreenMail and
:mod:`helpdesk_devstack.submission`, so that the client under test and the server share no event
loop. The key's passphrase comes through the environment, not the command line. A test
stand-in, never part of the product: literals in commands before TLS are not understood (no
client sends one there).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import os
import re
import signal
import ssl
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from helpdesk_devstack.errors import DevstackError
from helpdesk_devstack.greenmail import MailServer
from helpdesk_devstack.mail_front import (
    LocalMailFront,
    RecordingFront,
    append_record,
    front_arguments,
    run_until_signalled,
    server_tls_context,
)
from helpdesk_devstack.procs import live_pid
from helpdesk_devstack.tls import TlsFiles

ADDED_CAPABILITIES = b"STARTTLS LOGINDISABLED"
_CAPABILITY_LINE = re.compile(rb"^(\* CAPABILITY )([^\r\n]*)", re.IGNORECASE)
_CAPABILITY_CODE = re.compile(rb"(\[CAPABILITY )([^\]]*)(\])", re.IGNORECASE)
_COMMAND = re.compile(rb"^(\S+) +([A-Za-z]+)")
_PLAIN_TEXT_LOGINS = {"LOGIN", "AUTHENTICATE"}
_GREETING_OK = re.compile(rb"^\* OK ", re.IGNORECASE)


class Misbehaviour(StrEnum):
    """How a hostile or broken STARTTLS server departs from RFC 3501 (``--misbehave``)."""

    PREAUTH = "preauth"
    REFUSE_STARTTLS = "refuse-starttls"
    INJECT_AFTER_OK = "inject-after-ok"
    INJECT_PARTIAL_AFTER_OK = "inject-partial-after-ok"


#: What an injecting front sends in plain text right after its ``OK`` to ``STARTTLS``: the
#: capabilities a man in the middle would like the client to believe (a login without TLS).
INJECTED_AFTER_OK = {
    Misbehaviour.INJECT_AFTER_OK: b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n",
    Misbehaviour.INJECT_PARTIAL_AFTER_OK: b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN]",
}


@dataclass(frozen=True, kw_only=True)
class ImapStartTlsFront(RecordingFront):
    """Where a running front listens, whether it offers STARTTLS, how it misbehaves (None: it
    does not) and where it records.

    Its :meth:`events`, oldest first: ``{"event": "command" | "tls" | "handshake_failed" |
    "dropped" | "closed", "session": n, "tls": bool, ...}``; ``session`` numbers the
    connections, ``command`` (one before TLS) adds ``command`` (its name) and ``answer``
    (``relayed``, ``refused`` or ``starttls``), ``handshake_failed`` adds ``error``;
    ``dropped``: :meth:`drop_connections` cut it; ``closed`` is a session's last event (a test
    waits for it to know it saw all). A connection that sent nothing (the start's check that the
    port listens) is not recorded."""

    offers_starttls: bool = True
    misbehaviour: Misbehaviour | None = None
    pid_path: Path | None = None

    def drop_connections(self) -> None:
        """Drop every client's connection now (``SIGUSR1``); each is recorded ``dropped``."""
        pid = live_pid(self.pid_path) if self.pid_path is not None else None
        if pid is None:
            raise DevstackError("the IMAP front is not running: nothing to drop")
        os.kill(pid, signal.SIGUSR1)


# --- the rules before TLS (pure) ----------------------------------------------------------------


def advertise_starttls(line: bytes) -> bytes:
    """``line`` from GreenMail with ``STARTTLS LOGINDISABLED`` added to the capabilities it lists
    (a ``* CAPABILITY`` answer or a ``[CAPABILITY ...]`` code); any other line unchanged."""

    def added(listed: bytes) -> bytes:
        if b"STARTTLS" in listed.upper().split():
            return listed
        return listed + b" " + ADDED_CAPABILITIES

    line = _CAPABILITY_LINE.sub(lambda m: m.group(1) + added(m.group(2)), line, count=1)
    return _CAPABILITY_CODE.sub(lambda m: m.group(1) + added(m.group(2)) + m.group(3), line)


@dataclass(frozen=True)
class Verdict:
    """What the front does with a client's command before TLS: relay it to GreenMail
    (``answer`` None), or answer it itself (a refusal) and upgrade to TLS after that if
    ``upgrade``."""

    command: str
    answer: bytes | None = None
    upgrade: bool = False

    @property
    def kind(self) -> str:
        if self.upgrade:
            return "starttls"
        return "relayed" if self.answer is None else "refused"


def greeting(line: bytes, misbehaviour: Misbehaviour | None = None) -> bytes:
    """GreenMail's greeting as the front passes it on: ``* PREAUTH`` for ``* OK`` when it
    misbehaves so, else unchanged (:func:`advertise_starttls` adds STARTTLS after this)."""
    if misbehaviour is Misbehaviour.PREAUTH:
        return _GREETING_OK.sub(b"* PREAUTH ", line, count=1)
    return line


def before_tls(
    line: bytes, *, offers_starttls: bool = True, misbehaviour: Misbehaviour | None = None
) -> Verdict:
    """The front's answer to one command line of a client that has not upgraded yet."""
    found = _COMMAND.match(line)
    if found is None:
        return Verdict("", b"* BAD not an IMAP command\r\n")  # no tag to wait for GreenMail's by
    tag, command = found.group(1), found.group(2).decode().upper()
    if not offers_starttls:
        return Verdict(command)
    if command == "STARTTLS":
        if misbehaviour is Misbehaviour.REFUSE_STARTTLS:
            return Verdict(command, tag + b" NO STARTTLS is not available now\r\n")
        injected = INJECTED_AFTER_OK.get(misbehaviour, b"") if misbehaviour else b""
        answer = tag + b" OK Begin TLS negotiation now\r\n" + injected
        return Verdict(command, answer, upgrade=True)
    if command in _PLAIN_TEXT_LOGINS:
        refusal = b" NO [PRIVACYREQUIRED] %s is disabled before STARTTLS\r\n" % command.encode()
        return Verdict(command, tag + refusal)
    return Verdict(command)


def answer_ends(line: bytes, tag: bytes) -> bool:
    """Whether GreenMail's ``line`` ends its answer to the command ``tag``: the tagged status
    line, or an empty read (GreenMail closed the connection; a ``* BYE`` comes before the tagged
    ``OK`` of a ``LOGOUT``, so it ends nothing)."""
    return line.startswith(tag + b" ") or not line


# --- the server process -------------------------------------------------------------------------


async def _pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, ssl.SSLError):
        while chunk := await source.read(65536):
            target.write(chunk)
            await target.drain()
    with contextlib.suppress(ConnectionError, OSError, ssl.SSLError):
        if target.can_write_eof():
            target.write_eof()


class _Front:
    def __init__(self, arguments: argparse.Namespace, context: ssl.SSLContext) -> None:
        self._relay = (arguments.relay_host, arguments.relay_port)
        self._offers_starttls = not arguments.plain
        self._misbehaviour = Misbehaviour(arguments.misbehave) if arguments.misbehave else None
        self._context = context
        self._record = Path(arguments.record)
        self._sessions = itertools.count(1)
        self._talking: set[int] = set()  # the sessions that sent a command: they are recorded
        self._clients: dict[int, asyncio.StreamWriter] = {}
        self._secured: set[int] = set()  # the sessions upgraded to TLS

    def drop_all(self) -> None:
        """Cut every client's connection at once (an abort: no BYE, no TLS close)."""
        for session, to_client in list(self._clients.items()):
            self._note("dropped", session, session in self._secured)
            to_client.transport.abort()

    async def connection(
        self, client: asyncio.StreamReader, to_client: asyncio.StreamWriter
    ) -> None:
        session = next(self._sessions)
        to_greenmail: asyncio.StreamWriter | None = None
        upgraded = False
        self._clients[session] = to_client
        try:
            greenmail, to_greenmail = await asyncio.open_connection(*self._relay)
            first_line = await greenmail.readline()
            to_client.write(self._rewrite(greeting(first_line, self._misbehaviour)))
            upgraded = await self._until_upgraded(
                session, client, to_client, greenmail, to_greenmail
            )
            if upgraded:
                await asyncio.gather(_pipe(client, to_greenmail), _pipe(greenmail, to_client))
        except (ConnectionError, OSError) as error:
            logging.getLogger("helpdesk_devstack.imap_starttls").info(
                "session %s ended: %s", session, type(error).__name__
            )
        finally:
            self._clients.pop(session, None)
            self._secured.discard(session)
            for writer in (to_client, to_greenmail):
                if writer is not None:
                    writer.close()
                    with contextlib.suppress(Exception):
                        await writer.wait_closed()
            if session in self._talking:  # not a connection that only checked the port listens
                self._note("closed", session, upgraded)
                self._talking.discard(session)

    def _note(self, event: str, session: int, tls: bool, **fields: Any) -> None:
        self._talking.add(session)
        append_record(self._record, {"event": event, "session": session, "tls": tls, **fields})

    def _rewrite(self, line: bytes) -> bytes:
        return advertise_starttls(line) if self._offers_starttls else line

    async def _until_upgraded(
        self,
        session: int,
        client: asyncio.StreamReader,
        to_client: asyncio.StreamWriter,
        greenmail: asyncio.StreamReader,
        to_greenmail: asyncio.StreamWriter,
    ) -> bool:
        """Serve the plain-text part of a session; True once the client's side is TLS (False:
        it went away, or in ``--plain`` mode logged in: then the rest is relayed unchanged)."""
        while line := await client.readline():
            verdict = before_tls(
                line, offers_starttls=self._offers_starttls, misbehaviour=self._misbehaviour
            )
            self._note("command", session, False, command=verdict.command, answer=verdict.kind)
            if verdict.answer is not None:
                to_client.write(verdict.answer)
                await to_client.drain()
                if verdict.upgrade:
                    return await self._upgrade(session, to_client)
                continue
            to_greenmail.write(line)
            tag = line.split(b" ", 1)[0]
            while True:
                answer = await greenmail.readline()
                to_client.write(self._rewrite(answer))
                if answer_ends(answer, tag):
                    break
            await to_client.drain()
            if not self._offers_starttls and verdict.command in _PLAIN_TEXT_LOGINS:
                await asyncio.gather(_pipe(client, to_greenmail), _pipe(greenmail, to_client))
                return False
        return False

    async def _upgrade(self, session: int, to_client: asyncio.StreamWriter) -> bool:
        try:
            await to_client.start_tls(self._context)
        except (ssl.SSLError, ConnectionError, OSError) as error:
            self._note("handshake_failed", session, False, error=type(error).__name__)
            return False
        self._note("tls", session, True)
        self._secured.add(session)
        return True


async def serve(arguments: argparse.Namespace, stop: asyncio.Event) -> None:
    front = _Front(arguments, server_tls_context(arguments))
    server = await asyncio.start_server(front.connection, arguments.host, arguments.port)
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, front.drop_all)
    mode = "plain" if arguments.plain else "STARTTLS"
    if arguments.misbehave:
        mode += f", misbehaving: {arguments.misbehave}"
    logging.getLogger("helpdesk_devstack.imap_starttls").info(
        "listening on %s:%s (%s), relaying to %s:%s",
        arguments.host, arguments.port, mode, arguments.relay_host, arguments.relay_port,
    )  # fmt: skip
    async with server:
        await stop.wait()


class LocalImapStartTlsFront(LocalMailFront):
    """One front process on loopback whose pid, log and record live in ``home``."""

    module = "helpdesk_devstack.imap_starttls"
    _display_name = "IMAP STARTTLS front"

    def __init__(
        self,
        home: Path,
        *,
        port: int,
        tls: TlsFiles,
        relay_to: MailServer,
        plain: bool = False,
        misbehaviour: Misbehaviour | None = None,
    ) -> None:
        if plain and misbehaviour is not None:
            raise ValueError("a plain front offers no STARTTLS to misbehave with")
        super().__init__(home, port=port, tls=tls, relay_to=relay_to)
        self.server = ImapStartTlsFront(
            host=self.host, port=port, record=self.record,
            offers_starttls=not plain, misbehaviour=misbehaviour, pid_path=self.pid_path,
        )  # fmt: skip

    def relay_port(self) -> int:
        return self.relay_to.imap_port

    def more_arguments(self) -> list[str]:
        if not self.server.offers_starttls:
            return ["--plain"]
        if self.server.misbehaviour is not None:
            return ["--misbehave", self.server.misbehaviour.value]
        return []


def main(argv: list[str] | None = None) -> None:
    parser = front_arguments(__doc__.splitlines()[0] if __doc__ else None)
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument("--plain", action="store_true", help="offer no STARTTLS: relay all")
    modes.add_argument(
        "--misbehave", choices=[mode.value for mode in Misbehaviour],
        help="act as a hostile or broken STARTTLS server (see the module's description)",
    )  # fmt: skip
    run_until_signalled(serve, parser.parse_args(argv))


if __name__ == "__main__":
    main()
