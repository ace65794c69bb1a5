"""Command line: ``python -m notification_service serve | worker | migrate``."""

from __future__ import annotations

import argparse

from notification_service.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="notification-service", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "serve",
        help="run the HTTP API (HELPDESK_HTTP_HOST/PORT) with the event consumer, the email "
        "sender and the webhook dispatcher",
    )
    commands.add_parser("worker", help="the same as serve (the name the test harness uses)")
    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.add_argument("--revision", default="head")
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command in ("serve", "worker"):
        import uvicorn

        uvicorn.run(
            "notification_service.entrypoints.http:create_app",
            factory=True,
            host=settings.http_host,
            port=settings.http_port,
            loop="uvloop",
            http="httptools",
            access_log=False,
            log_config=None,
        )
    elif args.command == "migrate":
        from notification_service.adapters.migrate import upgrade

        upgrade(settings.database_url, args.revision, settings.database_schema)
        print(f"database schema at {args.revision}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
