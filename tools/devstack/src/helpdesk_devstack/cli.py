"""``python -m helpdesk_devstack install|up|run|down|status|logs|token`` (the Makefile's calls)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import timedelta

from pydantic import ValidationError

from helpdesk_devstack.errors import DevstackError
from helpdesk_devstack.paths import StackPaths
from helpdesk_devstack.settings import StackSettings
from helpdesk_devstack.stack import Stack, tail_logs
from helpdesk_devstack.tokens import (
    ROLES,
    default_email,
    default_subject,
    ensure_dev_keys,
    mint_token,
)
from helpdesk_devstack.topic_reader import follow_topic


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpdesk_devstack",
        description="The helpdesk's local stack without Docker: PostgreSQL 15, Kafka "
        "(KRaft, jars from Maven Central) and the app processes of tools/devstack/stack.toml. "
        "State lives in <repo>/.local/. Ports: HELPDESK_POSTGRES_PORT (5432), "
        "HELPDESK_KAFKA_PORT (9092), HELPDESK_KAFKA_CONTROLLER_PORT (9093).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("install", help="fetch the Kafka jars; check Java and PostgreSQL")
    for name, text in (
        ("up", "start the stack detached (what runs already is left alone)"),
        ("run", "start the stack in the foreground, stream the app logs; Ctrl-C stops it"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument(
            "--infra-only", action="store_true", help="only PostgreSQL, Kafka and the dev keys"
        )
    commands.add_parser("down", help="stop the apps, then Kafka, then PostgreSQL")
    commands.add_parser("status", help="what runs, with pids and addresses")
    logs = commands.add_parser("logs", help="show the end of the logs (-f follows them)")
    logs.add_argument("names", nargs="*", metavar="NAME", help="postgres, kafka or an app name")
    logs.add_argument("-n", "--lines", type=int, default=40, help="lines per log (default 40)")
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    tail = commands.add_parser("tail", help="print a topic's events as JSON lines (Ctrl-C stops)")
    tail.add_argument("topic", help="e.g. helpdesk.tickets.v1")
    tail.add_argument("--new", action="store_true", help="only events from now on")
    token = commands.add_parser("token", help="print a bearer JWT for the local stack")
    token.add_argument("--role", required=True, choices=ROLES)
    token.add_argument("--subject", help="the token's sub (default: dev-<role>)")
    token.add_argument("--name", help="display name (default: Dev <Role>)")
    token.add_argument("--email", help="the email claim (default: dev-<role>@example.com)")
    token.add_argument("--ttl-hours", type=float, default=12.0, help="lifetime (default 12)")
    return parser


def _print(line: str) -> None:
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = StackSettings()
        paths = StackPaths.discover()
        if args.command == "token":
            return _token(args, paths)
        if args.command == "tail":
            return asyncio.run(_tail(args, settings))
        stack = Stack(paths, settings, out=_print)
        if args.command == "install":
            stack.install()
        elif args.command == "up":
            stack.up(infra_only=args.infra_only)
        elif args.command == "run":
            return stack.run(infra_only=args.infra_only)
        elif args.command == "down":
            stack.down()
        elif args.command == "status":
            rows = stack.status()
            widths = [max(len(row[i]) for row in rows) for i in range(3)]
            for row in rows:
                print(
                    f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  pid {row[2]:<{widths[2]}}  "
                    f"{row[3]}".rstrip()
                )
        elif args.command == "logs":
            known = stack.log_names()
            names = args.names or known
            unknown = [n for n in names if n not in known]
            if unknown:
                raise DevstackError(
                    f"no log named {', '.join(unknown)}", f"use one of: {', '.join(known)}"
                )
            for line in tail_logs(stack, names, args.lines):
                print(line)
            if args.follow:
                for line in stack.follow(names):
                    if line:
                        print(line, flush=True)
    except DevstackError as error:
        print(f"[fail] {error}", file=sys.stderr)
        return 1
    except ValidationError as error:
        print(f"[fail] invalid HELPDESK_* setting:\n{error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


async def _tail(args: argparse.Namespace, settings: StackSettings) -> int:
    bootstrap = f"127.0.0.1:{settings.kafka_port}"
    async for record in follow_topic(bootstrap, args.topic, from_beginning=not args.new):
        headers = {key: value.decode(errors="replace") for key, value in record.headers}
        print(
            f"partition={record.partition} offset={record.offset} "
            f"key={(record.key or b'').decode()} headers={headers}"
        )
        print((record.value or b"").decode(errors="replace"), flush=True)
    return 0


def _token(args: argparse.Namespace, paths: StackPaths) -> int:
    private_path, _ = ensure_dev_keys(paths.jwt)
    token = mint_token(
        private_path.read_bytes(),
        args.role,
        args.subject or default_subject(args.role),
        timedelta(hours=args.ttl_hours),
        args.name,
        email=args.email or default_email(args.role),
    )
    # Only the token on stdout, so that TOKEN=$(make token) works.
    print(token)
    return 0
