"""Pure domain of the ticket service: aggregates and rules, no I/O."""
