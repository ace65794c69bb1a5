"""The proxy's pooled connections to the services are dropped before the services drop them.

uvicorn closes a keep-alive connection after ``timeout_keep_alive`` idle seconds. A client that
keeps it longer may send a request on it just as the service closes it, and the request fails
("ticket-service broke the connection", a 502 a full test run met once), so the gateway's idle
limit must be the shorter of the two.
"""

from __future__ import annotations

import uvicorn

from api_gateway.adapters.proxy import IDLE_CONNECTION_SECONDS, new_session


async def test_idle_connections_close_before_uvicorns_keep_alive_ends() -> None:
    services_keep_alive = uvicorn.Config(app="unused:app").timeout_keep_alive
    assert services_keep_alive > IDLE_CONNECTION_SECONDS
    session = new_session(10)
    try:
        assert session.connector is not None
        assert session.connector._keepalive_timeout == IDLE_CONNECTION_SECONDS
    finally:
        await session.close()
