"""The API gateway: one origin for the web portals (routing, sign-in, tokens, edge limits)."""
