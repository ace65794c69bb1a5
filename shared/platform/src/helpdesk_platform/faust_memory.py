"""Keep the garbage collector away from a Faust worker's recovered tables.

A worker keeps its tables in memory: after recovery, hundreds of thousands of tickets are
millions of long-lived Python objects. CPython's full collection walks all of them; in the
assignment worker at 200 tickets/s one took 1.1 s, during which no ticket was decided, and the
worker came out of it seconds behind. The tables' objects hold no reference cycles that need
collecting (dicts of strings and numbers, freed by reference counting when replaced), so once a
recovery has finished they are moved to the collector's permanent generation
(:func:`gc.freeze`): later collections only walk objects made since.
"""

from __future__ import annotations

import gc
import time
from typing import Any

import structlog

log = structlog.get_logger("helpdesk_platform.faust_memory")


def freeze_after_recovery(app: Any) -> None:
    """After each completed recovery of ``app``'s tables, collect once and freeze the rest."""

    async def on_rebalance_complete(*args: Any, **kwargs: Any) -> None:
        freeze_survivors()

    app.on_rebalance_complete.connect(on_rebalance_complete)


def freeze_survivors() -> int:
    """Collect garbage, then exclude every object that survives from later collections;
    returns how many objects are now frozen."""
    started = time.monotonic()
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info(
        "long-lived objects frozen",
        frozen=frozen,
        took_ms=round((time.monotonic() - started) * 1000),
    )
    return frozen
