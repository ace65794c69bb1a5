"""Use cases of the SLA service: ticket events and timers in, SLA events out (no I/O)."""
