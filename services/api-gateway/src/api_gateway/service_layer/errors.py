"""Errors the gateway's use cases raise and its entry points map (to HTTP statuses, CLI
retries), defined here so that routes never import an adapter to catch them; the adapters raise
them."""

from __future__ import annotations


class DirectoryUnavailable(Exception):
    """The ticket service did not answer as expected; the message says how."""


class DirectoryRefused(Exception):
    """The ticket service refused the request (4xx): trying again will not help."""
