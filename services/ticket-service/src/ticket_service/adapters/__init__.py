"""Adapters: PostgreSQL (event store, idempotency, migrations) and Kafka (outbox relay)."""
