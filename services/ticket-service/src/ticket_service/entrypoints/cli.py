"""Command line: ``ticket-service serve | relay | sla-projector | commands | customer-context |
migrate | projections``
(also ``python -m ticket_service``)."""

from __future__ import annotations

import argparse
import asyncio

from ticket_service.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ticket-service", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the HTTP API (HELPDESK_HTTP_HOST/PORT)")
    commands.add_parser("relay", help="publish the event log to Kafka (the outbox relay)")
    commands.add_parser(
        "sla-projector", help="keep ticket SLA due times and breaches from helpdesk.sla.v1"
    )
    commands.add_parser(
        "commands",
        help="decide the commands other services send on helpdesk.ticket-commands.v1",
    )
    commands.add_parser(
        "customer-context",
        help="follow contact and company changes onto open tickets (also run by `commands`)",
    )
    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.add_argument("--revision", default="head")
    projections = commands.add_parser("projections", help="read models built from the log")
    projections.add_argument(
        "action",
        choices=["rebuild", "catch-up"],
        help="rebuild: empty every read model and replay the whole log; catch-up: apply what "
        "is new",
    )
    args = parser.parse_args(argv)
    settings = Settings()

    if args.command == "serve":
        import uvicorn

        uvicorn.run(
            "ticket_service.entrypoints.http:create_app",
            factory=True,
            host=settings.http_host,
            port=settings.http_port,
            workers=settings.http_workers,
            loop="uvloop",
            http="httptools",
            access_log=False,
            log_config=None,
        )
    elif args.command == "relay":
        import uvloop

        from ticket_service.entrypoints.outbox_relay import run_relay

        uvloop.run(run_relay(settings))
    elif args.command == "sla-projector":
        import uvloop

        from ticket_service.entrypoints.sla_projector import run_sla_projector

        uvloop.run(run_sla_projector(settings))
    elif args.command == "commands":
        import uvloop

        from ticket_service.entrypoints.command_consumer import run_commands

        uvloop.run(run_commands(settings))
    elif args.command == "customer-context":
        import uvloop

        from ticket_service.entrypoints.command_consumer import run_customer_context

        uvloop.run(run_customer_context(settings))
    elif args.command == "migrate":
        from ticket_service.adapters.migrate import upgrade

        upgrade(settings.database_url, args.revision)
        print(f"database schema at {args.revision}")
    elif args.command == "projections":
        from ticket_service.entrypoints.projections import run_projections

        applied = asyncio.run(run_projections(settings, rebuild=args.action == "rebuild"))
        print(f"{args.action}: {applied} events applied")
    return 0
