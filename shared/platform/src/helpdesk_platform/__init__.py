"""Cross-cutting pieces shared by the services: bearer-token auth, tracing, structured logs."""
