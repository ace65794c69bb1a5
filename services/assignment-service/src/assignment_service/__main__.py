"""``python -m assignment_service worker``: run the assignment worker in the foreground.

The start-up is the one every worker shares (:func:`helpdesk_platform.faust_worker.run_worker`);
the worker is built by :func:`assignment_service.bootstrap.build_worker`.
"""

from __future__ import annotations

import sys

USAGE = "usage: python -m assignment_service worker"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["worker"]:
        print(USAGE, file=sys.stderr)
        return 2
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
