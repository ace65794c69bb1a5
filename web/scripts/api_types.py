"""Regenerate (or, with --check, verify) the TypeScript types of the services' APIs.

The schema comes from the FastAPI app in-process (``create_app().openapi()``), so no server or
database is needed; ``openapi-typescript`` from ``web/node_modules`` turns it into
``src/shared/api/ticket-service.d.ts``, which is checked in. ``--check`` exits 1 when that file
differs from what the current service code would give (the client would be stale).

The admin console's other services (the notification service's webhooks, the mail gateway's
accounts and quarantine, the SLA service's policies and calendars, the assignment service's
rules and routing; the last two documented by their Faust workers) go to
``src/shared/api/admin-services.d.ts``: their documents merged as the gateway merges them (its
routing table and ``merge``), so the paths are the public ones under ``/api`` — written without
that prefix, the client's base URL.

Run with the workspace venv: ``.venv/bin/python web/scripts/api_types.py [--check]``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from api_gateway.domain.openapi import merge
from api_gateway.domain.routes import RoutingTable
from assignment_service.entrypoints.api_docs import openapi_document
from assignment_service.entrypoints.worker import OPERATIONS as ASSIGNMENT_OPERATIONS
from mail_gateway.entrypoints.http import create_app as mail_gateway_app
from notification_service.entrypoints.http import create_app as notification_app
from sla_service.entrypoints.admin_api import OPENAPI as SLA_OPENAPI
from ticket_service.entrypoints.http import create_app

WEB = Path(__file__).resolve().parent.parent
ROOT = WEB.parent
TARGET = WEB / "src" / "shared" / "api" / "ticket-service.d.ts"
ADMIN_TARGET = WEB / "src" / "shared" / "api" / "admin-services.d.ts"
ROUTES = ROOT / "services" / "api-gateway" / "src" / "api_gateway" / "routes.toml"
CLI = WEB / "node_modules" / ".bin" / "openapi-typescript"


def admin_schema() -> dict[str, Any]:
    """The admin console's services' paths as the gateway publishes them."""
    documents = {
        "notification-service": notification_app().openapi(),
        "mail-gateway": mail_gateway_app().openapi(),
        "sla-service": SLA_OPENAPI,
        "assignment-service": openapi_document(ASSIGNMENT_OPERATIONS),
    }
    merged = merge({"openapi": "3.1.0"}, documents, RoutingTable.load(ROUTES), [])
    merged["info"] = {"title": "helpdesk admin services (through the gateway)", "version": "1"}
    merged["paths"] = {
        path.removeprefix("/api"): item for path, item in sorted(merged["paths"].items())
    }
    return merged


def generate(schema: dict[str, Any] | None = None) -> str:
    schema = schema if schema is not None else create_app().openapi()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "openapi.json"
        output = Path(tmp) / "types.d.ts"
        source.write_text(json.dumps(schema, indent=1, sort_keys=True))
        # Our own node_modules binary with fixed arguments.
        subprocess.run(  # noqa: S603
            [str(CLI), str(source), "-o", str(output)], check=True, capture_output=True
        )
        return output.read_text()


def main(argv: list[str]) -> int:
    if not CLI.exists():
        print(f"{CLI} is missing: run `npm ci` in web/ (make web-setup)", file=sys.stderr)
        return 2
    stale = 0
    for target, fresh in ((TARGET, generate()), (ADMIN_TARGET, generate(admin_schema()))):
        if "--check" not in argv:
            target.write_text(fresh)
            print(f"wrote {target.relative_to(ROOT)}")
        elif not target.exists() or target.read_text() != fresh:
            print(
                f"{target.relative_to(ROOT)} is stale: run "
                "`.venv/bin/python web/scripts/api_types.py` (make web-api-types) and commit it",
                file=sys.stderr,
            )
            stale = 1
        else:
            print(f"{target.relative_to(ROOT)} is up to date")
    return stale


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
