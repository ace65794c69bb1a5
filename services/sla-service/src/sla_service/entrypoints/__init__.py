"""Entry points of the SLA service: the Faust worker (stream processor and HTTP read API)."""
