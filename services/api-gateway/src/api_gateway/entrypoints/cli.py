"""Command line: ``api-gateway serve | migrate | bootstrap-manager`` (also
``python -m api_gateway``).

``bootstrap-manager`` never prints the manager's password (#15): its output lands in
``.local/log/api-gateway.log`` and in compose / Kubernetes Job logs, which more people read than
should sign in as the first manager. A generated password goes to a file only its owner can read
(mode 0600); the sign-in line names where the password is, and ``make up`` shows it on the
operator's terminal from that file.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
from pathlib import Path

from api_gateway.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="api-gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the gateway (HELPDESK_HTTP_HOST/PORT, 8080)")
    migrate = commands.add_parser("migrate", help="bring the gateway's schema up to date")
    migrate.add_argument("--revision", default="head")
    commands.add_parser(
        "bootstrap-manager",
        help="make sure the first manager exists (directory agent + password) and print how "
        "to sign in (never the password); the password comes from "
        "HELPDESK_BOOTSTRAP_MANAGER_PASSWORD, else the password file, else a new one written "
        "there (mode 0600)",
    )
    args = parser.parse_args(argv)
    settings = Settings()

    if args.command == "serve":
        import uvicorn

        uvicorn.run(
            "api_gateway.entrypoints.http:create_app",
            factory=True,
            host=settings.http_host,
            port=settings.http_port,
            workers=settings.http_workers,
            loop="uvloop",
            http="httptools",
            access_log=False,
            log_config=None,
            proxy_headers=False,
        )
    elif args.command == "migrate":
        from api_gateway.adapters.migrate import upgrade

        upgrade(settings.database_url, args.revision)
        print(f"api-gateway schema at {args.revision}")
    elif args.command == "bootstrap-manager":
        return asyncio.run(bootstrap_manager(settings))
    return 0


def manager_password(settings: Settings) -> str:
    """The password from the environment, else the password file, else a new one written there
    readable by its owner only."""
    if settings.bootstrap_manager_password:
        return settings.bootstrap_manager_password
    path = settings.bootstrap_manager_password_file
    if path.is_file() and path.read_text().strip():
        path.chmod(0o600)  # an older file may have been made with the umask's mode
        return path.read_text().strip()
    password = secrets.token_urlsafe(15)
    write_private(path, password + "\n")
    return password


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600 from the first byte (never world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


def sign_in_line(settings: Settings, email: str) -> str:
    """How to sign in as the first manager: where the password is, never the password."""
    where = (
        "password from HELPDESK_BOOTSTRAP_MANAGER_PASSWORD"
        if settings.bootstrap_manager_password
        else f"password in {settings.bootstrap_manager_password_file}"
    )
    return f"[ok] manager sign-in at {settings.gateway_public_url}: {email}, {where}"


async def bootstrap_manager(settings: Settings) -> int:
    from api_gateway.adapters.migrate import upgrade
    from api_gateway.bootstrap import build
    from api_gateway.service_layer.errors import DirectoryUnavailable

    await asyncio.to_thread(upgrade, settings.database_url)
    password = manager_password(settings)
    gateway = await build(settings)
    try:
        for attempt in range(30):  # the ticket service may still be starting
            try:
                account = await gateway.sign_in.bootstrap_manager(
                    settings.bootstrap_manager_email, settings.bootstrap_manager_name, password
                )
                break
            except DirectoryUnavailable:
                if attempt == 29:
                    raise
                await asyncio.sleep(1)
    finally:
        await gateway.close()
    print(sign_in_line(settings, account.email))
    return 0
