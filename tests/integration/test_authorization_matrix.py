"""Who may call what, on every route of every service (issue #11): each service runs as its real
process; every route its OpenAPI document lists is called as no one, as a forged token, as two
customers, a technician, an agent and a manager (and, on the ticket service, as the mail
gateway's two principals), each answer checked against the service's table in
``authz_tables``. A route missing from a table fails the test, so a new route cannot ship
without a decision about who may call it. The harness is ``helpdesk_devstack.authz``; the
worlds the calls run in are in ``authz_worlds``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpdesk_devstack.authz import check

from .authz_tables import MATRIX
from .authz_worlds import WORLDS
from .gateway_stack import gateway  # noqa: F401 - the session's gateway stack, for its world

pytestmark = pytest.mark.integration


def test_every_service_has_a_world_and_a_table() -> None:
    assert WORLDS.keys() == MATRIX.keys()


@pytest.mark.timeout(600)
@pytest.mark.parametrize("service", sorted(MATRIX))
async def test_every_route_answers_each_caller_as_the_matrix_says(
    request: pytest.FixtureRequest, dev_keys: tuple[Path, Path], service: str
) -> None:
    world = await WORLDS[service](request, dev_keys[0].read_bytes())
    table = MATRIX[service]
    calls = await check(world, table, service)
    assert calls == len(table) * len(world.who)
