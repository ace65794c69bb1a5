"""What every Faust worker of the helpdesk installs before it makes its app, in one call.

The SLA and the assignment worker run on the same Faust and share its fixes: records of their
source topics delivered in order and never skipped across a restart or rebalance
(:mod:`~helpdesk_platform.faust_delivery`, which includes :mod:`~helpdesk_platform.faust_seek`),
bounded fetch waits (:mod:`~helpdesk_platform.faust_fetch`) and tables in RocksDB on the
worker's data directory (:mod:`~helpdesk_platform.faust_tables`, the app's ``store=STORE``).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from helpdesk_platform import faust_delivery, faust_fetch, faust_tables
from helpdesk_platform.faust_preload import DEFAULT_MIN_LAG

__all__ = ["STORE", "group_instance_id_setting", "preload_min_lag_setting", "prepare"]

#: The ``store`` of the workers' apps: RocksDB tables on the app's ``datadir``.
STORE = faust_tables.STORE


def prepare() -> None:
    """Install the fixes and the table store (idempotent); call before ``faust.App(...)``."""
    faust_delivery.install()
    faust_fetch.install()
    faust_tables.install()


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
