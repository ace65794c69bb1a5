"""The command line every Faust worker has: ``python -m <module> worker`` and nothing else.

Kept apart from :mod:`helpdesk_platform.faust_worker` so that a wrong command answers its usage
without loading Faust; the worker's own ``start`` imports what it runs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

__all__ = ["worker_main"]


def worker_main(module: str, argv: list[str] | None, start: Callable[[], None]) -> int:
    """Run ``start()`` for ``worker``; for anything else print the usage and return 2."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["worker"]:
        print(f"usage: python -m {module} worker", file=sys.stderr)
        return 2
    start()
    return 0
