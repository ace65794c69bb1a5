"""The SLA worker: the wiring of the Faust agent and timer to the service layer.

* One agent consumes the tickets topic together with the worker's timer ticks
  (:class:`~sla_service.adapters.faust_app.SlaFaustApp`); each batch is decided by
  :class:`~sla_service.service_layer.batch.SlaBatch` (in order, seeing the batch's earlier
  changes); the SLA events it derived are acknowledged by Kafka before the table is updated, so a
  crash in between re-derives the same events (same ids).
* Timers: an in-memory :class:`DueIndex` (rebuilt from the table after every assignment and
  recovery) is looked at every ``timer_interval`` seconds. Each table value carries the
  ticket's next timer and the digest of the policies it was worked out under, written in the
  same record as the state (so always in step with it, in RocksDB and in the changelog): a
  rebuild reads those instants instead of validating every state and working out its clocks
  (55 s for 100,000 tickets on a loaded machine before), and works out only the states stored
  under other policies (reliability issue #13). A ticket whose instant has come gets a tick
  on its partition of the ticks topic, and the agent then emits its ``SlaWarning`` /
  ``SlaBreached`` (a Faust table can only be changed from within a stream). A tick is taken off
  the index before Kafka has it (reliability issue #13): a crash rebuilds the index from the
  table, and a send that fails marks the index for a rebuild, so no due ticket is forgotten.
* Timers never run ahead of their input (issue #13, "breach not due"): a due ticket's tick is
  held by the :class:`~sla_service.service_layer.tick_gate.TickGate` until the agent has
  processed its tickets partition up to the end offset Kafka reported after the due instant,
  then once more up to the end offset read when that was reached (what a lagging worker can
  know by then, e.g. a reply an outage held back), and the agent defers a tick whose offset
  it has not reached yet (back on the index as due now). After a restart or a flushed backlog,
  a reply that reached Kafka before the due instant is processed before the breach is decided.
* SLA configuration: every replica reads ``helpdesk.sla-policies.v1`` from the start through
  :class:`helpdesk_platform.config_log.ConfigLog` and folds it
  (:func:`~sla_service.domain.policies.fold_policies`); the tracker reads the resulting
  :class:`~sla_service.domain.policies.PolicyCatalog`. Ticket events and timers wait until the
  configuration is read; a change of it rebuilds the due index, so tickets whose policy (or its
  calendar) changed or was deleted are ticked and catch up at once.
* HTTP: :mod:`sla_service.entrypoints.admin_api` and :mod:`sla_service.entrypoints.policies_api`.

The worker is built once by :func:`sla_service.bootstrap.build_worker`.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from helpdesk_events import sla as _sla_events  # noqa: F401  (registers the SLA event types)
from helpdesk_events.envelope import EventEnvelope
from helpdesk_platform import faust_memory
from helpdesk_platform.config_log import ConfigLog
from helpdesk_platform.faust_batches import skip_unreadable, write_tables
from sla_service.adapters.faust_app import SlaFaustApp, read_tick, stored, traceparent_of
from sla_service.domain.known_statuses import KnownStatuses
from sla_service.domain.policies import PolicyCatalog, SavedPolicies
from sla_service.domain.selection import PolicyRule
from sla_service.service_layer.batch import SlaBatch
from sla_service.service_layer.due_index import DueIndex
from sla_service.service_layer.tick_gate import TickGate
from sla_service.service_layer.tracker import SlaTracker
from sla_service.settings import SlaSettings

log = structlog.get_logger("sla_service.worker")

#: The one stream of the policies topic (a fixed id, the same on every replica).
POLICIES_STREAM_ID = uuid.uuid5(uuid.NAMESPACE_URL, "helpdesk:sla-policies")

#: At most this many events per batch; a batch waits at most BATCH_WITHIN seconds to fill.
BATCH_MAX = 500
#: 50 ms: SLA events are about targets minutes or hours away; larger batches mean fewer produce
#: requests and commits (at 100 tickets/s on the whole stack the worker took 0.22-0.25 cores
#: instead of 0.27-0.28 with 10 ms).
BATCH_WITHIN = 0.05


def _now() -> datetime:
    return datetime.now(UTC)


class SlaWorker:
    """The agent, the timer and readiness, over the Faust app and the tracker."""

    def __init__(
        self,
        settings: SlaSettings,
        faust_app: SlaFaustApp,
        tracker: SlaTracker,
        policies: ConfigLog[SavedPolicies],
        built_in: PolicyRule,
        ticket_options: ConfigLog[KnownStatuses] | None = None,
    ) -> None:
        self.settings = settings
        self.faust = faust_app
        self.app = faust_app.app
        self.table = faust_app.table
        self.ticks = faust_app.ticks
        self.ticks_topic_name = faust_app.ticks_topic_name
        self.tracker = tracker
        self.policies = policies
        #: The built-in default policy (settings), until a saved policy is the default.
        self.built_in = built_in
        self.index = DueIndex()
        self.gate = TickGate()
        self._index_dirty = True
        self._index_stale = False  # a rebuild wanted without leaving readiness
        self._assigned = False
        self.app.agent(faust_app.source, name="sla-tracker")(self._process)
        self.app.timer(settings.timer_interval)(self._look_at_timers)
        self.app.task(self._start_policies)
        self.ticket_options = ticket_options
        if ticket_options is not None:
            self.app.task(self._start_ticket_options)
        self.app.on_partitions_assigned.connect(self._on_assigned)
        self.app.on_partitions_revoked.connect(self._on_revoked)
        self.table.on_recover(self._on_recovered)

    # --- stream ---------------------------------------------------------------------------------

    async def _start_policies(self) -> None:
        self.policies.on_change(self._on_policies_changed)
        await self.policies.start()

    def _on_policies_changed(self, saved: SavedPolicies, event: EventEnvelope) -> None:
        self.tracker.policies = PolicyCatalog.build(saved, self.built_in)
        # Tickets whose policy changed or was deleted fall due at once (next_timer): rebuild.
        self._index_dirty = True
        if self.policies.caught_up.is_set():
            log.info(event.event_type, version=self.policies.version, **_config_ids(event.data))

    async def _start_ticket_options(self) -> None:
        """Read the ticket statuses (for the policies API's check); the worker does not wait for
        them, and goes on without the check if they cannot be read."""
        assert self.ticket_options is not None
        try:
            await self.ticket_options.start()
        except (KafkaError, TimeoutError) as error:
            log.warning("ticket options not read; statuses are not checked", error=repr(error))

    async def _process(self, stream: Any) -> None:
        """Batches of events, decided by :class:`SlaBatch`; sent, then stored (see above)."""
        await self.policies.caught_up.wait()  # no ticket is timed before the policies are read
        written: list[Awaitable[Any]] = []  # the changelog records of the batch before
        async for events in stream.take_events(BATCH_MAX, within=BATCH_WITHIN):
            batch: SlaBatch[Any] = SlaBatch(self.tracker, self.faust.load, self._stored_timer)
            seen: dict[int, int] = {}  # tickets partition -> offset processed in this batch
            self._resume_gate()
            for event in events:
                message = event.message
                try:
                    if message.topic == self.ticks_topic_name:
                        key, offset = read_tick(message.value)
                        partition = message.partition
                        if self.gate.caught_up(partition, offset, seen.get(partition)):
                            batch.tick(event, key, _now())
                        else:  # its input is still coming: due again once it is processed
                            self.index.set(key, partition, _now())
                    else:
                        seen[message.partition] = message.offset + 1
                        batch.ticket_event(
                            event,
                            message.value,
                            message.partition,
                            traceparent_of(message.headers),
                            now=_now(),
                        )
                except (ValidationError, ValueError, orjson.JSONDecodeError) as error:
                    skip_unreadable(message, error)
            for key, state in batch.untouched.items():
                self.index.set(key, state.partition, self.tracker.next_timer(state))
            await asyncio.gather(self.faust.publish(batch.sends), *written)
            digest = self.tracker.timer_digest
            timers = {
                key: self.tracker.next_timer(state) for key, (_, state) in batch.states.items()
            }
            written = await write_tables(
                self.app,
                [
                    (event, self.table, key, stored(state, timers[key], digest))
                    for key, (event, state) in batch.states.items()
                ],
            )
            for key, (_, state) in batch.states.items():
                self.index.set(key, state.partition, timers[key])
            for partition, offset in seen.items():  # their states are in the table now
                self.gate.advance(partition, offset)
            for envelope in batch.timer_events:
                log.info(
                    envelope.event_type,
                    ticket_id=str(envelope.stream_id),
                    metric=envelope.data.get("metric"),
                    due_at=envelope.data.get("due_at"),
                    event_id=str(envelope.event_id),
                )

    # --- timers ---------------------------------------------------------------------------------

    def _stored_timer(self, key: str) -> tuple[bool, datetime | None]:
        return self.faust.stored_timer(key, self.tracker.timer_digest)

    async def _on_assigned(self, *args: Any, **kwargs: Any) -> None:
        self._assigned = True
        self._index_dirty = True

    async def _on_revoked(self, *args: Any, **kwargs: Any) -> None:
        self._index_dirty = True
        self.gate.revoke()  # every partition: Faust revokes the whole assignment, then assigns

    def _resume_gate(self) -> None:
        """Every record before the offset a partition resumed at was processed by the group."""
        for partition, offset in self.faust.resume_offsets().items():
            self.gate.advance(partition, offset)

    async def _on_recovered(self) -> None:
        self._index_dirty = True

    def _settled(self) -> bool:
        return not (self.app.rebalancing or self.app.in_recovery)

    def ready(self) -> bool:
        return (
            self._assigned
            and self._settled()
            and not self._index_dirty
            and self.policies.caught_up.is_set()
        )

    def _rebuild_index(self) -> None:
        began = time.monotonic()
        worked_out = 0

        def entries() -> Iterator[tuple[str, int, datetime | None]]:
            nonlocal worked_out
            for key, partition, instant, stored_instant in self.faust.timers(
                self.tracker.timer_digest, self.tracker.next_timer
            ):
                worked_out += not stored_instant
                yield key, partition, instant

        self.index.load(entries())
        self.gate.drop_pending()  # the index holds them again
        self._index_dirty = self._index_stale = False
        log.info(
            "due index rebuilt",
            tickets=len(self.index),
            worked_out=worked_out,  # states stored under other policies (or before #13)
            seconds=round(time.monotonic() - began, 3),
        )
        # The table and the index are now the bulk of the heap: keep later collections off them.
        faust_memory.freeze_survivors()

    async def _look_at_timers(self) -> None:
        if not self._settled() or not self.policies.caught_up.is_set():
            return
        if self._index_dirty or self._index_stale:
            self._rebuild_index()
        self._resume_gate()  # before recheck(): a hold the group has passed since is reached
        due = self.index.pop_due(_now())
        again = self.gate.recheck()  # first holds reached: what arrived meanwhile counts too
        if due or again:  # the end offsets now cover every record on Kafka at their instant
            try:
                offsets = await self.faust.end_offsets(p for _, p in [*due, *again])
            except (KafkaError, TimeoutError) as error:
                log.warning("end offsets not read; due tickets wait", error=repr(error))
                self._index_stale = True  # they are off the index: read again from the table
                return
            self.gate.hold(due, offsets, last=False)
            self.gate.hold(again, offsets)
        try:
            self._resume_gate()  # again: the end-offset read above awaited, the group went on
            await self.faust.send_ticks(self.gate.release())
        except BaseException:
            # Ticks that did not reach Kafka are off the index: read it again from the table at
            # the next look (the worker stays ready; a tick sent twice fires once).
            self._index_stale = True
            raise


def _config_ids(data: dict[str, Any]) -> dict[str, Any]:
    """The ids a configuration event names, for its log line."""
    policy = data.get("policy")
    return {
        "policy_id": data.get("policy_id")
        or (policy.get("policy_id") if isinstance(policy, dict) else None)
    }


def create_worker(settings: SlaSettings | None = None) -> SlaWorker:
    """The worker and everything it uses, built once (see :mod:`sla_service.bootstrap`)."""
    from sla_service.bootstrap import build_worker

    return build_worker(settings or SlaSettings())
