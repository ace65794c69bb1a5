"""Ticket service: tickets and their event log (PostgreSQL), published to Kafka via an outbox."""
