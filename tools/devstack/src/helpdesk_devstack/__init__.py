"""The helpdesk's local stack without Docker.

- :mod:`helpdesk_devstack.kafka`: Apache Kafka from Maven Central jars, one KRaft node.
- :mod:`helpdesk_devstack.postgres`: PostgreSQL 15 from Debian's binaries.
- :mod:`helpdesk_devstack.stack` / :mod:`helpdesk_devstack.cli`: ``python -m helpdesk_devstack``
  (install, up, run, down, status, logs, token).
- :mod:`helpdesk_devstack.tokens`: the dev RS256 key pair and bearer tokens.
- :mod:`helpdesk_devstack.pytest_plugin`: session fixtures (``kafka_bootstrap``,
  ``postgres_server_dsn``, ``make_database``, ``private_kafka_factory``, ``dev_keys``).
"""

from helpdesk_devstack.errors import DevstackError
from helpdesk_devstack.kafka import KAFKA_VERSION, LocalKafka, ensure_topics, ensure_topics_async
from helpdesk_devstack.postgres import LocalPostgres
from helpdesk_devstack.tokens import ensure_dev_keys, mint_token

__all__ = [
    "KAFKA_VERSION",
    "DevstackError",
    "LocalKafka",
    "LocalPostgres",
    "ensure_dev_keys",
    "ensure_topics",
    "ensure_topics_async",
    "mint_token",
]
