"""Kafka topics of the helpdesk and how each is kept.

Retention choices (documented in README "Topics"):
- Fact streams (tickets, customers, directory, sla) are kept forever (``retention.ms=-1``) with the
  ``delete`` policy: analysts and new services replay them from the beginning. Compaction would drop
  a ticket's older events (the key is the ticket id), so it is not used. PostgreSQL's event log
  stays the source of truth; Kafka is its published copy.
- Commands and notifications are transient requests: kept 7 days, long enough to survive a
  weekend-long outage of a consumer.

Partition counts: ticket-keyed topics share one count so that Faust agents can co-partition
tickets, SLA events and ticket commands (a ticket's events land on the same partition number in
each). ``HELPDESK_TOPIC_PARTITIONS`` overrides the default for that group (e.g. 24 in production).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

FOREVER = -1
SEVEN_DAYS_MS = 7 * 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    retention_ms: int
    key: str
    cleanup_policy: str = "delete"

    def config(self) -> dict[str, str]:
        """Topic-level configuration as Kafka expects it."""
        return {
            "cleanup.policy": self.cleanup_policy,
            "retention.ms": str(self.retention_ms),
            # Events are small JSON documents; one message should never exceed 1 MiB.
            "max.message.bytes": str(1024 * 1024),
        }


def _ticket_partitions() -> int:
    return int(os.environ.get("HELPDESK_TOPIC_PARTITIONS", "6"))


TICKETS = "helpdesk.tickets.v1"
CUSTOMERS = "helpdesk.customers.v1"
DIRECTORY = "helpdesk.directory.v1"
SLA = "helpdesk.sla.v1"
TICKET_COMMANDS = "helpdesk.ticket-commands.v1"
NOTIFICATIONS = "helpdesk.notifications.v1"
#: Configuration kept as events, one partition each so that every reader folds one order.
SLA_POLICIES = "helpdesk.sla-policies.v1"
ASSIGNMENT_RULES = "helpdesk.assignment-rules.v1"
#: What the assignment worker could not assign, and why (key: ticket id).
ASSIGNMENT = "helpdesk.assignment.v1"
MAIL_ACCOUNTS = "helpdesk.mail-accounts.v1"


def all_topics() -> list[TopicSpec]:
    """Every topic the helpdesk uses, with its partition count and retention."""
    ticket_partitions = _ticket_partitions()
    return [
        TopicSpec(TICKETS, ticket_partitions, FOREVER, key="ticket id"),
        TopicSpec(SLA, ticket_partitions, FOREVER, key="ticket id"),
        TopicSpec(TICKET_COMMANDS, ticket_partitions, SEVEN_DAYS_MS, key="ticket id"),
        TopicSpec(CUSTOMERS, 3, FOREVER, key="customer or company id"),
        TopicSpec(DIRECTORY, 1, FOREVER, key="agent or team id"),
        TopicSpec(NOTIFICATIONS, 3, SEVEN_DAYS_MS, key="recipient id"),
        TopicSpec(SLA_POLICIES, 1, FOREVER, key="configuration id"),
        TopicSpec(ASSIGNMENT_RULES, 1, FOREVER, key="configuration id"),
        TopicSpec(ASSIGNMENT, ticket_partitions, FOREVER, key="ticket id"),
        TopicSpec(MAIL_ACCOUNTS, 1, FOREVER, key="configuration id"),
    ]


#: Which topic carries the events of each kind of stream in the event log.
TOPIC_BY_STREAM_TYPE: dict[str, str] = {
    "ticket": TICKETS,
    "customer": CUSTOMERS,
    "company": CUSTOMERS,
    "agent": DIRECTORY,
    "team": DIRECTORY,
    "config": DIRECTORY,
    "sla": SLA,
    "ticket-command": TICKET_COMMANDS,
    "sla-policies": SLA_POLICIES,
    "assignment-rules": ASSIGNMENT_RULES,
    "assignment": ASSIGNMENT,
    "mail-accounts": MAIL_ACCOUNTS,
}
