"""``python -m mail_gateway serve``: the HTTP API with the IMAP watchers, the ticket topic
consumer and the send queue, in the foreground (Ctrl-C stops it).
``python -m mail_gateway new-key``: print a new Fernet key for ``HELPDESK_MAIL_SECRET_KEY``."""

from __future__ import annotations

import sys

USAGE = "usage: python -m mail_gateway serve | new-key"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["new-key"]:
        from cryptography.fernet import Fernet

        print(Fernet.generate_key().decode())
        return 0
    if args != ["serve"]:
        print(USAGE, file=sys.stderr)
        return 2
    import uvicorn

    from helpdesk_platform.telemetry import setup_logging
    from mail_gateway.entrypoints.http import create_app
    from mail_gateway.settings import Settings

    settings = Settings()
    setup_logging("mail-gateway", settings.log_level)
    uvicorn.run(
        create_app(settings), host=settings.http_host, port=settings.http_port,
        log_level="warning", access_log=False,
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
