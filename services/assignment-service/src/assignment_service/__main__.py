"""``python -m assignment_service worker``: run the assignment worker in the foreground.

The command line and the start-up are the ones every worker shares
(:mod:`helpdesk_platform.worker_cli`, :func:`helpdesk_platform.faust_worker.run_worker`); the
worker is built by :func:`assignment_service.bootstrap.build_worker`.
"""

from __future__ import annotations

from helpdesk_platform.worker_cli import worker_main


def main(argv: list[str] | None = None) -> int:
    return worker_main("assignment_service", argv, _start)


def _start() -> None:
    # Imported only now: the usage answers without loading Faust.
    from assignment_service import bootstrap
    from assignment_service.adapters.faust_app import own_topics
    from assignment_service.settings import AssignmentSettings
    from helpdesk_platform.faust_worker import run_worker

    settings = AssignmentSettings()
    run_worker(
        "assignment-service",
        settings,
        own_topics(settings),
        lambda: bootstrap.build_worker(settings),
    )


if __name__ == "__main__":
    raise SystemExit(main())
