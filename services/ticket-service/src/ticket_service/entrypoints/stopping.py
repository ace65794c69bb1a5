"""How a background process of the ticket service is told to stop: SIGINT or SIGTERM set an
event its loop watches, so it finishes the batch at hand and closes its connections."""

from __future__ import annotations

import asyncio
import signal


def stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop
