"""``python -m assignment_service worker``: run the assignment worker in the foreground."""

from __future__ import annotations

import sys

USAGE = "usage: python -m assignment_service worker"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["worker"]:
        print(USAGE, file=sys.stderr)
        return 2
    import faust

    from assignment_service.bootstrap import bootstrap
    from assignment_service.settings import AssignmentSettings
    from helpdesk_platform.telemetry import setup_logging

    settings = AssignmentSettings()
    setup_logging("assignment-service", settings.log_level)
    worker = bootstrap(settings)
    faust.Worker(
        worker.app, loglevel=settings.log_level, override_logging=False, quiet=True
    ).execute_from_commandline()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
