"""Builds the assignment worker and what it needs, once, for every entry point.

The worker's own topics (team requests, changelogs) are created before its consumer joins the
group, on the event loop Faust then runs on, and a data directory far behind the changelogs is
filled straight from them (:mod:`helpdesk_platform.faust_preload`); :func:`bootstrap` returns
the worker ready to run.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from assignment_service.settings import AssignmentSettings

if TYPE_CHECKING:
    from assignment_service.entrypoints.worker import AssignmentWorker


def bootstrap(settings: AssignmentSettings) -> AssignmentWorker:
    """The worker for ``settings``, its topics created and its data directory made."""
    from assignment_service.entrypoints import worker as worker_module
    from helpdesk_platform import faust_preload, kafka_topics

    # The loop stays the current one for Faust.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(
        kafka_topics.ensure_topics(settings.kafka_bootstrap, worker_module.own_topics(settings))
    )
    worker = worker_module.create_worker(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # An empty or far-behind data directory: the changelogs straight into RocksDB (issue #13).
    loop.run_until_complete(
        faust_preload.preload_tables(worker.app, settings.kafka_bootstrap, settings.preload_min_lag)
    )
    return worker
