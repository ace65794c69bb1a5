"""Choosing the SLA policy of a ticket from an ordered list of policies.

A :class:`PolicyRule` pairs an :class:`~sla_service.domain.policy.SlaPolicy` and the
:class:`~sla_service.domain.calendar.BusinessCalendar` it counts in with a condition on the
ticket's fields and an optional active date range. A :class:`PolicySet` is the ordered list plus
exactly one default rule; :meth:`PolicySet.select` returns the first rule, in order, that is
active at the given instant and whose condition matches the ticket, else the default.

The condition is anything with ``matches(mapping) -> bool`` (a
``helpdesk_conditions.Condition`` in the service; CEL, never ``eval``), so this module stays pure:
no I/O, time is passed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sla_service.domain.calendar import BusinessCalendar, NaiveDatetimeError
from sla_service.domain.policy import SlaPolicy

__all__ = ["PolicyRule", "PolicySet", "PolicySetError", "TicketCondition"]


class TicketCondition(Protocol):
    def matches(self, ticket: Mapping[str, Any], /) -> bool: ...


class PolicySetError(ValueError):
    """The policy list cannot be used (no default, two defaults, duplicate ids, bad range)."""


@dataclass(frozen=True)
class PolicyRule:
    """One policy of the ordered list; ``condition`` ``None`` matches every ticket."""

    policy_id: str
    policy: SlaPolicy
    calendar: BusinessCalendar
    condition: TicketCondition | None = None
    active_from: datetime | None = None
    active_to: datetime | None = None
    is_default: bool = False
    #: A digest of the policy and calendar (``policies.revision_of``), when already worked out.
    revision: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        for bound in (self.active_from, self.active_to):
            if bound is not None and bound.utcoffset() is None:
                raise NaiveDatetimeError(f"an active range bound must be aware; got {bound}")
        if (
            self.active_from is not None
            and self.active_to is not None
            and self.active_to <= self.active_from
        ):
            raise PolicySetError(
                f"policy {self.policy_id!r}: active_to ({self.active_to.isoformat()}) must be "
                f"after active_from ({self.active_from.isoformat()})"
            )

    def is_active(self, at: datetime) -> bool:
        """Whether ``at`` lies in ``[active_from, active_to)``; open bounds are unbounded."""
        if at.utcoffset() is None:
            raise NaiveDatetimeError(f"expected an aware datetime; got {at}")
        if self.active_from is not None and at < self.active_from:
            return False
        return self.active_to is None or at < self.active_to

    def applies_to(self, ticket: Mapping[str, Any], at: datetime) -> bool:
        if not self.is_active(at):
            return False
        return self.condition is None or self.condition.matches(ticket)


@dataclass(frozen=True)
class PolicySet:
    """The ordered policies and the one default (which is not part of the ordered matching)."""

    rules: tuple[PolicyRule, ...]
    default: PolicyRule
    _by_id: dict[str, PolicyRule] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.default.is_default:
            raise PolicySetError(f"policy {self.default.policy_id!r} is not marked as the default")
        seen: dict[str, PolicyRule] = {self.default.policy_id: self.default}
        for rule in self.rules:
            if rule.is_default:
                raise PolicySetError(
                    f"policy {rule.policy_id!r} is a second default; exactly one is allowed"
                )
            if rule.policy_id in seen:
                raise PolicySetError(f"policy id {rule.policy_id!r} is used twice")
            seen[rule.policy_id] = rule
        object.__setattr__(self, "_by_id", seen)

    @classmethod
    def of(cls, rules: Sequence[PolicyRule]) -> PolicySet:
        """Build from a list that contains the default once, anywhere in it."""
        defaults = [rule for rule in rules if rule.is_default]
        if len(defaults) != 1:
            raise PolicySetError(f"exactly one default policy is required; got {len(defaults)}")
        return cls(tuple(r for r in rules if not r.is_default), defaults[0])

    def get(self, policy_id: str) -> PolicyRule | None:
        return self._by_id.get(policy_id)

    def select(
        self, ticket: Mapping[str, Any], at: datetime, *, created_at: datetime | None = None
    ) -> PolicyRule:
        """The first rule, by order, active at ``at`` whose condition matches; else the default.

        With ``created_at``, each rule's condition also sees ``created_hour``: the hour (0-23) of
        ``created_at`` in the time zone of that rule's calendar ("created after our hours").
        """
        if created_at is not None and created_at.utcoffset() is None:
            raise NaiveDatetimeError(f"expected an aware datetime; got {created_at}")
        for rule in self.rules:
            fields = ticket
            if created_at is not None:
                hour = created_at.astimezone(rule.calendar.zone).hour
                fields = {**ticket, "created_hour": hour}
            if rule.applies_to(fields, at):
                return rule
        return self.default
