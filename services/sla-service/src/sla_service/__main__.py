"""``python -m sla_service worker``: run the SLA worker in the foreground (Ctrl-C stops it)."""

from __future__ import annotations

import asyncio
import sys

USAGE = "usage: python -m sla_service worker"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["worker"]:
        print(USAGE, file=sys.stderr)
        return 2
    import faust

    from helpdesk_platform.faust_preload import preload_tables
    from helpdesk_platform.kafka_topics import ensure_topics
    from helpdesk_platform.telemetry import setup_logging
    from sla_service.adapters.faust_app import own_topics
    from sla_service.bootstrap import build_worker
    from sla_service.settings import SlaSettings

    settings = SlaSettings()
    setup_logging("sla-service", settings.log_level)
    # The worker's own topics exist before its consumer joins the group; the loop stays the
    # current one for Faust.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(ensure_topics(settings.kafka_bootstrap, own_topics(settings)))
    worker = build_worker(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # An empty or far-behind data directory: the changelog straight into RocksDB (issue #13).
    loop.run_until_complete(
        preload_tables(worker.app, settings.kafka_bootstrap, settings.preload_min_lag)
    )
    faust.Worker(
        worker.app, loglevel=settings.log_level, override_logging=False, quiet=True
    ).execute_from_commandline()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
