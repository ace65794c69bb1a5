"""Schemathesis over a running service's OpenAPI document (issue #11: no request makes a 5xx).

Every operation is probed with generated requests, valid and invalid, as one caller; the
failures of all operations are collected and reported together, so one run shows everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

__all__ = ["FuzzReport", "fuzz_service", "probe_operation"]


@dataclass
class FuzzReport:
    operations: int = 0
    calls: int = 0
    failures: list[str] = field(default_factory=list)


def probe_operation(
    operation: Any,
    base_url: str,
    headers: Mapping[str, str],
    failures: list[str],
    examples: int = 25,
) -> int:
    """Run the generated cases of one operation; the number of requests made."""
    calls = 0

    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def probe(case: Any) -> None:  # a schemathesis.Case
        nonlocal calls
        calls += 1
        case.call_and_validate(
            base_url=base_url, headers=dict(headers), checks=[not_a_server_error]
        )

    try:
        probe()
    except Exception as error:  # collect every operation's failure, then report them all
        failures.append(f"{operation.label}: {error}")
    return calls


def fuzz_service(
    base_url: str,
    headers: Mapping[str, str],
    *,
    openapi: str = "/openapi.json",
    skip: tuple[str, ...] = (),
    examples: int = 25,
) -> FuzzReport:
    """Probe every operation of ``base_url + openapi`` but the paths in ``skip`` (endless
    streams) as the caller of ``headers``."""
    schema = schemathesis.openapi.from_url(f"{base_url}{openapi}")
    report = FuzzReport()
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            report.failures.append(f"an operation the schema cannot describe: {result.err()}")
            continue
        operation = result.ok()
        if operation.path in skip:
            continue
        report.operations += 1
        report.calls += probe_operation(operation, base_url, headers, report.failures, examples)
    return report
