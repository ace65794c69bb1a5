"""The mail gateway: support inboxes become tickets, agents' replies go out as threaded email."""
