"""``python -m sla_service worker``: run the SLA worker in the foreground (Ctrl-C stops it).

The command line and the start-up are the ones every worker shares
(:mod:`helpdesk_platform.worker_cli`, :func:`helpdesk_platform.faust_worker.run_worker`); the
worker is built by :func:`sla_service.bootstrap.build_worker`.
"""

from __future__ import annotations

from helpdesk_platform.worker_cli import worker_main


def main(argv: list[str] | None = None) -> int:
    return worker_main("sla_service", argv, _start)


def _start() -> None:
    # Imported only now: the usage answers without loading Faust.
    from helpdesk_platform.faust_worker import run_worker
    from sla_service import bootstrap
    from sla_service.adapters.faust_app import own_topics
    from sla_service.settings import SlaSettings

    settings = SlaSettings()
    run_worker(
        "sla-service", settings, own_topics(settings), lambda: bootstrap.build_worker(settings)
    )


if __name__ == "__main__":
    raise SystemExit(main())
