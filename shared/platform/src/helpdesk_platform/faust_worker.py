"""What every Faust worker of the helpdesk installs before it makes its app, in one call.

The SLA and the assignment worker run on the same Faust and share its fixes: records of their
source topics delivered in order and never skipped across a restart or rebalance
(:mod:`~helpdesk_platform.faust_delivery`, which includes :mod:`~helpdesk_platform.faust_seek`),
bounded fetch waits (:mod:`~helpdesk_platform.faust_fetch`) and tables in RocksDB on the
worker's data directory (:mod:`~helpdesk_platform.faust_tables`, the app's ``store=STORE``).
"""

from __future__ import annotations

from helpdesk_platform import faust_delivery, faust_fetch, faust_tables

__all__ = ["STORE", "prepare"]

#: The ``store`` of the workers' apps: RocksDB tables on the app's ``datadir``.
STORE = faust_tables.STORE


def prepare() -> None:
    """Install the fixes and the table store (idempotent); call before ``faust.App(...)``."""
    faust_delivery.install()
    faust_fetch.install()
    faust_tables.install()
