"""SLA policy configuration events (stream type ``sla-policies``, topic
``helpdesk.sla-policies.v1``, one stream: the policy set), read and written by the SLA service
through :class:`helpdesk_platform.config_log.ConfigLog`."""

from __future__ import annotations

SLA_POLICIES_STREAM = "sla-policies"
