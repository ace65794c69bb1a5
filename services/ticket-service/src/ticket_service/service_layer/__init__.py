"""Use cases: load aggregates, decide with the domain, append events."""
