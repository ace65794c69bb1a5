"""``python -m sla_service worker``: run the SLA worker in the foreground (Ctrl-C stops it).

The start-up is the one every worker shares (:func:`helpdesk_platform.faust_worker.run_worker`);
the worker is built by :func:`sla_service.bootstrap.build_worker`.
"""

from __future__ import annotations

import sys

USAGE = "usage: python -m sla_service worker"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["worker"]:
        print(USAGE, file=sys.stderr)
        return 2
    # Imported only now: the usage answers without loading Faust.
    from helpdesk_platform.faust_worker import run_worker
    from sla_service import bootstrap
    from sla_service.adapters.faust_app import own_topics
    from sla_service.settings import SlaSettings

    settings = SlaSettings()
    run_worker(
        "sla-service", settings, own_topics(settings), lambda: bootstrap.build_worker(settings)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
