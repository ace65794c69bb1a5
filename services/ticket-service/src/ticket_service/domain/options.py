"""The admin-configurable ticket options: priorities, statuses, types, categories, business units.

Managers replace them as a whole (``TicketOptionsConfigured``); until they do, the defaults
below apply. Every decision that takes a value from one of these lists checks it here, so a
refused value always names the values that are allowed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from helpdesk_events import StatusCategory
from helpdesk_events.directory import BusinessUnitOption, StatusOption, TicketOptionsConfigured
from ticket_service.domain.errors import InvalidTransition

#: The one stream holding the admin-configured ticket options.
CONFIG_STREAM_ID = uuid.UUID("00000000-0000-4000-8000-00000000c0f1")

DEFAULT_PRIORITIES: tuple[str, ...] = ("Low", "Medium", "High", "Urgent")
DEFAULT_STATUSES: dict[str, StatusCategory] = {
    "New": StatusCategory.NEW,
    "Open": StatusCategory.ACTIVE,
    "In Progress": StatusCategory.ACTIVE,
    "Pending": StatusCategory.PAUSED,  # waiting on a third party or vendor
    "Waiting on Customer": StatusCategory.PAUSED,
    "Solved": StatusCategory.RESOLVED,
    "Closed": StatusCategory.CLOSED,
}
#: Statuses every configuration must keep: the lifecycle rules refer to them by name.
REQUIRED_STATUSES: dict[str, StatusCategory] = {
    "New": StatusCategory.NEW,
    "Open": StatusCategory.ACTIVE,
    "Waiting on Customer": StatusCategory.PAUSED,
    "Closed": StatusCategory.CLOSED,
}


def _allowed(values: Iterable[object]) -> str:
    listed = ", ".join(str(v) for v in values)
    return listed or "(none configured)"


@dataclass(frozen=True)
class TicketOptions:
    priorities: tuple[str, ...] = DEFAULT_PRIORITIES
    statuses: dict[str, StatusCategory] = field(default_factory=lambda: dict(DEFAULT_STATUSES))
    types: tuple[str, ...] = ("Question", "Incident", "Problem", "Checking Issue")
    categories: tuple[str, ...] = ("Problem", "Complaint", "Support")
    business_units: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def default_priority(self) -> str:
        # The middle of the ordered list: "Medium" for the defaults.
        return self.priorities[(len(self.priorities) - 1) // 2]

    def priority_rank(self, priority: str) -> int:
        return self.priorities.index(priority) if priority in self.priorities else -1

    def category_or_guess(self, status: str) -> StatusCategory:
        """For old events only: a status no longer configured is read as its default category
        (or active), because history must always replay."""
        return self.statuses.get(status) or DEFAULT_STATUSES.get(status, StatusCategory.ACTIVE)

    def category_of(self, status: str) -> StatusCategory:
        try:
            return self.statuses[status]
        except KeyError:
            raise InvalidTransition(
                f"unknown status {status!r}; use one of {_allowed(self.statuses)}"
            ) from None

    def check_priority(self, priority: str) -> None:
        if priority not in self.priorities:
            raise InvalidTransition(
                f"unknown priority {priority!r}; use one of {_allowed(self.priorities)}"
            )

    def check_classification(self, type_: str | None, category: str | None) -> None:
        if type_ is not None and type_ not in self.types:
            raise InvalidTransition(f"unknown type {type_!r}; use one of {_allowed(self.types)}")
        if category is not None and category not in self.categories:
            raise InvalidTransition(
                f"unknown category {category!r}; use one of {_allowed(self.categories)}"
            )

    def check_business_unit(self, unit: str | None, brand: str | None) -> None:
        if unit is None:
            if brand is not None:
                raise InvalidTransition("a brand needs its business unit")
            return
        if unit not in self.business_units:
            raise InvalidTransition(
                f"unknown business unit {unit!r}; use one of {_allowed(self.business_units)}"
            )
        if brand is not None and brand not in self.business_units[unit]:
            raise InvalidTransition(
                f"brand {brand!r} is not in business unit {unit!r}; "
                f"use one of {_allowed(self.business_units[unit])}"
            )

    @classmethod
    def from_event(cls, event: TicketOptionsConfigured) -> TicketOptions:
        return cls(
            priorities=event.priorities,
            statuses={s.name: s.category for s in event.statuses},
            types=event.types,
            categories=event.categories,
            business_units={unit.name: unit.brands for unit in event.business_units},
        )

    def to_event(self) -> TicketOptionsConfigured:
        return TicketOptionsConfigured(
            priorities=self.priorities,
            statuses=tuple(StatusOption(name=n, category=c) for n, c in self.statuses.items()),
            types=self.types,
            categories=self.categories,
            business_units=tuple(
                BusinessUnitOption(name=n, brands=b) for n, b in self.business_units.items()
            ),
        )


def configure(
    priorities: tuple[str, ...],
    statuses: dict[str, StatusCategory],
    types: tuple[str, ...],
    categories: tuple[str, ...],
    business_units: dict[str, tuple[str, ...]],
) -> TicketOptionsConfigured:
    """Decide a new configuration, refusing one that would break the lifecycle rules."""
    for name, category in REQUIRED_STATUSES.items():
        if statuses.get(name) is not category:
            raise InvalidTransition(
                f"status {name!r} (category {category.value}) must stay: the lifecycle uses it"
            )
    for label, values in (("priorities", priorities), ("types", types), ("categories", categories)):
        if len(set(values)) != len(values):
            raise InvalidTransition(f"{label} must not repeat a value")
    if not priorities:
        raise InvalidTransition("configure at least one priority")
    return TicketOptions(priorities, statuses, types, categories, business_units).to_event()


DEFAULT_OPTIONS = TicketOptions()
