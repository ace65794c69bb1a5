"""Assignment rule configuration events (stream type ``assignment-rules``, topic
``helpdesk.assignment-rules.v1``, one stream: the rule set), read and written by the assignment
service through :class:`helpdesk_platform.config_log.ConfigLog`."""

from __future__ import annotations

ASSIGNMENT_RULES_STREAM = "assignment-rules"
