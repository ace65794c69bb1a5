"""The ticket statuses the SLA service knows, to check the statuses a policy names.

The ticket service owns the status list (``TicketOptionsConfigured`` on
``helpdesk.directory.v1``, replaced as a whole). The SLA worker folds it (:func:`fold_options`)
so that the policies API refuses a policy naming a status that does not exist ("Wating for
Vendor") instead of saving a rule that never applies. Until the options were configured the
ticket service's built-in list applies, which the SLA service does not copy: nothing is checked
then. The check is the API's only: the configuration fold never depends on another topic, so
every replica folds the policies alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from helpdesk_events import StatusCategory
from sla_service.domain.policy import SlaPolicy

__all__ = ["KnownStatuses", "fold_options"]


@dataclass(frozen=True)
class KnownStatuses:
    """Status name -> category, or None while the options were never configured."""

    statuses: Mapping[str, StatusCategory] | None = None

    def check(self, policy: SlaPolicy) -> None:
        """``ValueError`` naming the statuses ``policy`` names that the options do not have."""
        if self.statuses is None:
            return
        unknown = sorted(policy.statuses - self.statuses.keys())
        if unknown:
            allowed = ", ".join(sorted(self.statuses))
            raise ValueError(
                f"no ticket status is named {', '.join(map(repr, unknown))} (the statuses are: "
                f"{allowed})"
            )


def fold_options(known: KnownStatuses, event_type: str, data: Mapping[str, Any]) -> KnownStatuses:
    """The statuses after one event of the ticket options stream."""
    if event_type != "TicketOptionsConfigured":
        return known
    statuses = data.get("statuses") or []
    return KnownStatuses({str(item["name"]): StatusCategory(item["category"]) for item in statuses})
