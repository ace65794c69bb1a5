"""Builds the assignment worker and what it needs, once, for every entry point (``__main__``,
tests); its topics and data directory are made by the shared start-up
(:func:`helpdesk_platform.faust_worker.run_worker`), as for the SLA worker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assignment_service.settings import AssignmentSettings

if TYPE_CHECKING:
    from assignment_service.entrypoints.worker import AssignmentWorker


def build_worker(settings: AssignmentSettings) -> AssignmentWorker:
    """The worker for ``settings``: its Faust app, tables, configuration logs and HTTP API."""
    from assignment_service.entrypoints import worker as worker_module

    return worker_module.create_worker(settings)
