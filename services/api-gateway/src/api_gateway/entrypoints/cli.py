"""Command line: ``api-gateway serve | migrate | bootstrap-manager`` (also
``python -m api_gateway``)."""

from __future__ import annotations

import argparse
import asyncio
import secrets

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
        "to sign in; the password comes from HELPDESK_BOOTSTRAP_MANAGER_PASSWORD, else the "
        "password file, else a new one written there",
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
    if settings.bootstrap_manager_password:
        return settings.bootstrap_manager_password
    path = settings.bootstrap_manager_password_file
    if path.is_file() and path.read_text().strip():
        return path.read_text().strip()
    password = secrets.token_urlsafe(15)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(password + "\n")
    return password


async def bootstrap_manager(settings: Settings) -> int:
    from api_gateway.adapters.directory import DirectoryUnavailable
    from api_gateway.adapters.migrate import upgrade
    from api_gateway.bootstrap import build

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
    print(
        f"[ok] manager sign-in at {settings.gateway_public_url}: {account.email} / {password}"
        + (
            ""
            if settings.bootstrap_manager_password
            else f"  (kept in {settings.bootstrap_manager_password_file})"
        )
    )
    return 0
