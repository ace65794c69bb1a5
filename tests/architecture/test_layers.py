"""The shape every service keeps (docs/architecture.md), checked on the source so that a new
route module cannot quietly grow back into the old one: route modules stay short and never
import an adapter (the errors and types they map are the domain's or the service layer's), and
the domain imports neither adapters nor entry points."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SERVICES = sorted(p for p in (REPO / "services").glob("*/src/*") if p.is_dir())
#: "A few lines per route": a route module above this is split by resource.
MAX_ROUTE_MODULE_LINES = 320


def route_modules() -> list[Path]:
    found = []
    for package in SERVICES:
        entrypoints = package / "entrypoints"
        found += sorted(entrypoints.glob("http*.py")) + sorted(entrypoints.glob("*_api.py"))
    return found


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_every_service_has_route_modules_to_check() -> None:
    assert len(SERVICES) >= 6
    assert len(route_modules()) >= 20


@pytest.mark.parametrize("path", route_modules(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_route_modules_are_short_and_import_no_adapter(path: Path) -> None:
    package = path.parents[1].name
    adapters = [m for m in imported_modules(path) if m.startswith(f"{package}.adapters")]
    assert not adapters, f"{path.name} imports {adapters}: map service-layer errors instead"
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_ROUTE_MODULE_LINES, f"{path.name} has {lines} lines: split it by resource"


@pytest.mark.parametrize("package", SERVICES, ids=lambda p: p.name)
def test_the_domain_imports_no_io_layer(package: Path) -> None:
    for path in sorted((package / "domain").rglob("*.py")):
        wrong = [
            m
            for m in imported_modules(path)
            if m.startswith((f"{package.name}.adapters", f"{package.name}.entrypoints"))
        ]
        assert not wrong, f"{path.relative_to(REPO)} imports {wrong}"
