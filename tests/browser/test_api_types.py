"""The checked-in TypeScript types of the ticket service's API (web/src/shared/api/) must be what
the service's current OpenAPI document gives; otherwise the portals compile against a stale API."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "web" / "scripts" / "api_types.py"


def test_generated_api_types_are_current() -> None:
    if not (ROOT / "web" / "node_modules" / ".bin" / "openapi-typescript").exists():
        pytest.fail("web/node_modules is missing: run `make web-setup` (make test does)")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr + result.stdout
