"""SLA report arithmetic: compliance and average business times per group; pure.

An :class:`Outcome` is one metric of one ticket that ended or broke in the period: met within its
target, met late, or breached (still open). Per group (a team, an assignee, or ``None`` for
tickets without one) and metric:

* ``compliance`` = met within target / (met within target + breached), where a metric met late
  counts as breached (it was); ``None`` when there is nothing to count;
* ``average_seconds`` = mean business time of the metrics *met* in the period (late ones too).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sla_service.domain.policy import SlaMetric

__all__ = ["GroupReport", "MetricReport", "Outcome", "report"]


@dataclass(frozen=True)
class Outcome:
    ticket_id: uuid.UUID
    metric: SlaMetric
    at: datetime
    group: uuid.UUID | None
    met: bool
    within_target: bool
    elapsed_seconds: float | None = None


@dataclass(frozen=True)
class MetricReport:
    met_within: int
    breached: int
    met: int
    average_seconds: float | None

    @property
    def compliance(self) -> float | None:
        counted = self.met_within + self.breached
        return None if counted == 0 else round(100 * self.met_within / counted, 2)


@dataclass(frozen=True)
class GroupReport:
    group: uuid.UUID | None
    metrics: dict[SlaMetric, MetricReport]


def report(outcomes: Iterable[Outcome], start: datetime, end: datetime) -> list[GroupReport]:
    """Per group, per metric, the outcomes with ``start <= at < end``; groups in id order."""
    tallies: dict[uuid.UUID | None, dict[SlaMetric, list[Outcome]]] = {}
    for outcome in outcomes:
        if start <= outcome.at < end:
            tallies.setdefault(outcome.group, {}).setdefault(outcome.metric, []).append(outcome)
    groups: list[GroupReport] = []
    for group in sorted(tallies, key=lambda g: "" if g is None else str(g)):
        metrics: dict[SlaMetric, MetricReport] = {}
        for metric, items in sorted(tallies[group].items()):
            met = [o for o in items if o.met]
            times = [o.elapsed_seconds for o in met if o.elapsed_seconds is not None]
            within = sum(1 for o in met if o.within_target)
            metrics[metric] = MetricReport(
                met_within=within,
                breached=len(items) - within,
                met=len(met),
                average_seconds=sum(times) / len(times) if times else None,
            )
        groups.append(GroupReport(group, metrics))
    return groups
