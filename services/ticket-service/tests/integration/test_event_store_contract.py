"""The PostgreSQL event store keeps the event store contract (see ``event_store_contract``)."""

from __future__ import annotations

import pytest

from ticket_service.adapters.event_store import PostgresEventStore
from ticket_service.service_layer.event_store import EventStore

from ..unit.event_store_contract import EventStoreContract

pytestmark = pytest.mark.integration


class TestPostgresEventStore(EventStoreContract):
    @pytest.fixture
    def event_store(self, store: PostgresEventStore) -> EventStore:
        return store
