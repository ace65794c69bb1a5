"""The in-memory event store keeps the event store contract (see ``event_store_contract``)."""

from __future__ import annotations

import pytest

from ticket_service.adapters.memory_event_store import InMemoryEventStore
from ticket_service.service_layer.event_store import EventStore

from .event_store_contract import EventStoreContract


class TestInMemoryEventStore(EventStoreContract):
    @pytest.fixture
    def event_store(self) -> EventStore:
        return InMemoryEventStore()
