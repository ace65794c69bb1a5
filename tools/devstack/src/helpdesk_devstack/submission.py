"""A STARTTLS submission server in front of GreenMail, for the mail gateway's tests (issue #14).

Why it exists: an email account's SMTP TLS mode defaults to ``starttls`` (port 587 submission,
what most providers offer), but GreenMail announces no STARTTLS on SMTP - it has plain SMTP and
SMTPS only - so the default mode would never run against a server. This one is an ``aiosmtpd``
server (a maintained SMTP server library) that behaves like a provider's submission port:

- it announces STARTTLS with the throwaway certificate of :mod:`helpdesk_devstack.tls` and refuses
  AUTH and MAIL before it (``require_starttls``: ``530 Must issue a STARTTLS command first``);
- it requires AUTH (PLAIN or LOGIN) with the one login and password it was started with
  (``535`` otherwise) before it takes any mail;
- it relays every accepted message unchanged (its bytes, envelope sender and recipients) into
  GreenMail's plain SMTP port and says ``250`` only once GreenMail took it, so a test reads the mail
  from the recipient's GreenMail mailbox as it reads any other;
- it records every STARTTLS, AUTH attempt and accepted message as a JSON line
  (:meth:`SubmissionServer.events`) with whether that session was encrypted at the time, and
  never the password: a test checks that the client did STARTTLS before it logged in.

It runs as a process of its own (``python -m helpdesk_devstack.submission``, started by
:class:`LocalSubmissionServer`; :mod:`helpdesk_devstack.mail_front`), like GreenMail, so that the
client under test and the server share no event loop. The password and the key's passphrase come
through the environment, not the command line. A test stand-in, never part of the product.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import itertools
import logging
import os
import smtplib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpdesk_devstack.greenmail import MailServer
from helpdesk_devstack.mail_front import (
    LocalMailFront,
    RecordingFront,
    append_record,
    front_arguments,
    run_until_signalled,
    server_tls_context,
)
from helpdesk_devstack.tls import TlsFiles

_LOGIN_ENV = "HELPDESK_SUBMISSION_LOGIN"
_PASSWORD_ENV = "HELPDESK_SUBMISSION_PASSWORD"  # noqa: S105 - the variable's name, not a password


@dataclass(frozen=True, kw_only=True)
class SubmissionServer(RecordingFront):
    """Where a running submission server listens, the login it takes and where it records.

    Its :meth:`events`, oldest first: ``{"event": "starttls" | "auth" | "message", "session": n,
    "tls": bool, ...}``; ``session`` numbers the connections, ``auth`` adds ``login``,
    ``mechanism`` and ``accepted``, ``message`` adds ``login``, ``mail_from`` and ``rcpt_tos``."""

    login: str
    password: str


class LocalSubmissionServer(LocalMailFront):
    """One submission server process on loopback whose pid, log and record live in ``home``."""

    module = "helpdesk_devstack.submission"
    _display_name = "STARTTLS submission server"

    def __init__(
        self,
        home: Path,
        *,
        port: int,
        tls: TlsFiles,
        relay_to: MailServer,
        login: str,
        password: str,
    ) -> None:
        super().__init__(home, port=port, tls=tls, relay_to=relay_to)
        self.server = SubmissionServer(
            host=self.host, port=port, record=self.record, login=login, password=password
        )

    def relay_port(self) -> int:
        return self.relay_to.smtp_port

    def secrets(self) -> dict[str, str]:
        return {_LOGIN_ENV: self.server.login, _PASSWORD_ENV: self.server.password}


# --- the server process -------------------------------------------------------------------------


class _Recorder:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._numbers = itertools.count(1)

    def write(self, event: str, session: Any, **fields: Any) -> None:
        if not hasattr(session, "record_number"):  # aiosmtpd makes a Session per connection
            session.record_number = next(self._numbers)
        line = {
            "event": event,
            "session": session.record_number,
            "tls": session.ssl is not None,
            **fields,
        }
        append_record(self._path, line)


async def serve(arguments: argparse.Namespace, stop: asyncio.Event) -> None:
    # Imported here: only this process needs aiosmtpd (a dev dependency), not the code above that
    # the pytest plugin imports to start it.
    from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

    login = os.environ[_LOGIN_ENV].encode()
    password = os.environ[_PASSWORD_ENV].encode()
    context = server_tls_context(arguments)
    recorder = _Recorder(Path(arguments.record))

    def relay(envelope: Envelope) -> None:
        with smtplib.SMTP(arguments.relay_host, arguments.relay_port, timeout=30) as greenmail:
            greenmail.sendmail(
                envelope.mail_from or "", envelope.rcpt_tos, envelope.original_content or b""
            )

    class RelayHandler:
        def handle_STARTTLS(self, server: SMTP, session: Session, envelope: Envelope) -> bool:
            recorder.write("starttls", session)
            return True

        async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
            try:
                await asyncio.to_thread(relay, envelope)
            except (smtplib.SMTPException, OSError) as error:
                return f"451 4.4.1 relaying to GreenMail failed: {type(error).__name__}"
            credentials = session.auth_data  # AUTH is required: what ``authenticate`` accepted
            recorder.write(
                "message", session,
                login=_text(credentials.login if isinstance(credentials, LoginPassword) else None),
                mail_from=envelope.mail_from, rcpt_tos=envelope.rcpt_tos,
            )  # fmt: skip
            return "250 2.0.0 OK relayed"

    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        accepted = (
            isinstance(data, LoginPassword)
            and hmac.compare_digest(data.login, login)
            and hmac.compare_digest(data.password, password)
        )
        given = data.login if isinstance(data, LoginPassword) else None
        recorder.write("auth", session, login=_text(given), mechanism=mechanism, accepted=accepted)
        return AuthResult(success=accepted, handled=False, auth_data=data if accepted else None)

    handler = RelayHandler()

    def connection() -> SMTP:
        return SMTP(
            handler,
            hostname="submission.helpdesk.test",
            tls_context=context,
            require_starttls=True,
            auth_required=True,
            auth_require_tls=True,
            authenticator=authenticate,
        )

    server = await asyncio.get_running_loop().create_server(
        connection, arguments.host, arguments.port
    )
    logging.getLogger("helpdesk_devstack.submission").info(
        "listening on %s:%s, relaying to %s:%s",
        arguments.host, arguments.port, arguments.relay_host, arguments.relay_port,
    )  # fmt: skip
    async with server:
        await stop.wait()


def _text(value: bytes | str | None) -> str | None:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def main(argv: list[str] | None = None) -> None:
    parser = front_arguments(__doc__.splitlines()[0] if __doc__ else None)
    run_until_signalled(serve, parser.parse_args(argv))


if __name__ == "__main__":
    main()
