"""Regenerate (or, with --check, verify) the TypeScript types of the ticket service's API.

The schema comes from the FastAPI app in-process (``create_app().openapi()``), so no server or
database is needed; ``openapi-typescript`` from ``web/node_modules`` turns it into
``src/shared/api/ticket-service.d.ts``, which is checked in. ``--check`` exits 1 when that file
differs from what the current service code would give (the client would be stale).

Run with the workspace venv: ``.venv/bin/python web/scripts/api_types.py [--check]``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from ticket_service.entrypoints.http import create_app

WEB = Path(__file__).resolve().parent.parent
TARGET = WEB / "src" / "shared" / "api" / "ticket-service.d.ts"
CLI = WEB / "node_modules" / ".bin" / "openapi-typescript"


def generate() -> str:
    schema = create_app().openapi()
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
    fresh = generate()
    if "--check" in argv:
        if not TARGET.exists() or TARGET.read_text() != fresh:
            print(
                f"{TARGET.relative_to(WEB.parent)} is stale: run "
                "`.venv/bin/python web/scripts/api_types.py` (make web-api-types) and commit it",
                file=sys.stderr,
            )
            return 1
        print(f"{TARGET.relative_to(WEB.parent)} is up to date")
        return 0
    TARGET.write_text(fresh)
    print(f"wrote {TARGET.relative_to(WEB.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
