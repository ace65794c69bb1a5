"""Settings every Faust worker has, defined once (each service's settings class declares them
with these fields). Kept apart from :mod:`helpdesk_platform.faust_worker` so that reading a
worker's settings does not load Faust."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from helpdesk_platform.faust_preload import DEFAULT_MIN_LAG

__all__ = ["group_instance_id_setting", "preload_min_lag_setting"]


def preload_min_lag_setting() -> Any:
    """The workers' ``preload_min_lag`` setting (see :mod:`helpdesk_platform.faust_preload`)."""
    return Field(
        default=DEFAULT_MIN_LAG,
        ge=0,
        description="read the table changelogs straight into RocksDB before the worker starts "
        "when its data directory is at least this many records behind (an empty one: all); "
        "0: Faust's own recovery only (helpdesk_platform.faust_preload, issue #13)",
    )


def group_instance_id_setting() -> Any:
    """The workers' ``group_instance_id`` setting (Faust's ``consumer_group_instance_id``)."""
    return Field(
        default=None,
        description="Kafka static membership (group.instance.id), one per replica and stable "
        "across its restarts (the StatefulSet pod's name): a restarted replica gets its "
        "partitions back at once instead of after the dead one's session timeout (issue #13)",
    )
