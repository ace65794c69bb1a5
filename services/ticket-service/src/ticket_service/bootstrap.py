"""The one place the ticket service is wired: pools, the event store, the applications, the read
models, the relay and the consumers are built here, once, and every entry point (the HTTP app,
the outbox relay, the SLA projector, the command consumer, the CLI) takes them from here.

Nothing else constructs an application or an adapter, so a new entry point (or a test) gets the
same objects with the same collaborators, and a change of wiring is made in one file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg

from helpdesk_platform.auth import TokenVerifier
from ticket_service.adapters.activity_reports import ActivityReports
from ticket_service.adapters.attachments import Attachments
from ticket_service.adapters.blob_store import LocalDirectoryBlobStore
from ticket_service.adapters.claims import Claims
from ticket_service.adapters.command_consumer import TicketCommandConsumer
from ticket_service.adapters.command_outcomes import CommandOutcomes
from ticket_service.adapters.customer_context_consumer import CustomerContextConsumer
from ticket_service.adapters.customer_context_queries import CustomerContextQueries
from ticket_service.adapters.directory_projections import DIRECTORY_PROJECTIONS
from ticket_service.adapters.directory_queries import DirectoryQueries
from ticket_service.adapters.event_store import PostgresEventStore, create_pool
from ticket_service.adapters.idempotency import IdempotentAppender
from ticket_service.adapters.idle_pacer import IdlePacer
from ticket_service.adapters.kafka_relay import OutboxRelay
from ticket_service.adapters.portal_projection import PortalProjection
from ticket_service.adapters.portal_queries import PortalQueries
from ticket_service.adapters.projections import Projection, Projector
from ticket_service.adapters.sla_projection import SlaProjector
from ticket_service.adapters.sla_reports import SlaReports
from ticket_service.adapters.ticket_projection import TicketsProjection
from ticket_service.adapters.ticket_queries import TicketQueries
from ticket_service.service_layer.activity_reports import ActivityReportReads
from ticket_service.service_layer.attachments import AttachmentFiles
from ticket_service.service_layer.company_sharing import CompanySharing
from ticket_service.service_layer.customer_context import CustomerContextFollower
from ticket_service.service_layer.customers import CustomerApplication
from ticket_service.service_layer.directory import DirectoryApplication
from ticket_service.service_layer.directory_reads import DirectoryReads
from ticket_service.service_layer.mail import MailApplication
from ticket_service.service_layer.mail_requests import MailRequests
from ticket_service.service_layer.portal import PortalApplication
from ticket_service.service_layer.sla_reports import SlaReportReads
from ticket_service.service_layer.ticket_commands import TicketCommandHandler
from ticket_service.service_layer.ticket_requests import TicketRequests
from ticket_service.service_layer.tickets import TicketApplication
from ticket_service.settings import Settings

__all__ = ["TicketService", "build", "projections", "started", "token_verifier"]


def projections() -> list[Projection]:
    """Every read model of the service, in the order they are fed."""
    return [TicketsProjection(), *DIRECTORY_PROJECTIONS, PortalProjection()]


@dataclass(frozen=True)
class TicketService:
    """Everything the entry points use, built on one pool. Building does no I/O: an entry point
    only pays (a connection, a Kafka client) for what it runs."""

    settings: Settings
    pool: asyncpg.Pool
    store: PostgresEventStore
    tickets: TicketApplication
    customer_application: CustomerApplication
    directory_application: DirectoryApplication
    ticket_queries: TicketQueries
    attachments: Attachments
    attachment_files: AttachmentFiles
    ticket_requests: TicketRequests
    directory_reads: DirectoryReads
    mail_requests: MailRequests
    sla_reports: SlaReportReads
    activity_reports: ActivityReportReads
    commands: TicketCommandHandler
    portal: PortalApplication
    projector: Projector

    def _woken_by_appends(self, pacer: IdlePacer) -> IdlePacer:
        self.store.on_append(pacer.wake)
        return pacer

    def outbox_relay(self) -> OutboxRelay:
        """Publishes the event log to Kafka (``python -m ticket_service relay``)."""
        return OutboxRelay(
            self.store,
            self.pool,
            self.settings.kafka_bootstrap,
            name=self.settings.relay_name,
            batch_size=self.settings.relay_batch_size,
            pacer=self._woken_by_appends(
                IdlePacer(self.settings.relay_idle_seconds, self.settings.relay_idle_max_seconds)
            ),
        )

    def sla_projector(self) -> SlaProjector:
        """Keeps tickets' SLA due times and breaches from ``helpdesk.sla.v1``."""
        return SlaProjector(self.pool, self.settings.kafka_bootstrap)

    def command_consumer(self) -> TicketCommandConsumer:
        """Decides the commands other services send on ``helpdesk.ticket-commands.v1``."""
        return TicketCommandConsumer(
            self.commands.handle,
            self.settings.kafka_bootstrap,
            group_id=self.settings.commands_group,
            topic=self.settings.commands_topic,
            concurrency=self.settings.commands_concurrency,
        )

    def customer_context_consumer(self) -> CustomerContextConsumer:
        """Follows contact and company changes (``helpdesk.customers.v1``) onto open tickets."""
        follower = CustomerContextFollower(
            self.tickets,
            self.customer_application,
            CustomerContextQueries(self.pool),
            catch_up=self.projector.catch_up,
        )
        return CustomerContextConsumer(follower.follow, self.settings.kafka_bootstrap)


def build(pool: asyncpg.Pool, settings: Settings) -> TicketService:
    """Wire the service on ``pool`` (no I/O)."""
    store = PostgresEventStore(pool)
    # The API's own writes wake its projector at once (read models follow them as before).
    projector_pacer = IdlePacer()
    store.on_append(projector_pacer.wake)
    idempotency = IdempotentAppender(pool, store)
    claims = Claims(pool, store)
    customers = CustomerApplication(store, claims)
    directory_queries = DirectoryQueries(pool)
    directory = DirectoryApplication(store, claims, team_leads=directory_queries)
    queries = TicketQueries(pool)
    portal_queries = PortalQueries(pool)
    # Which company's tickets a customer sees: asked by the tickets and the portal alike.
    sharing = CompanySharing(customers, portal_queries)
    tickets = TicketApplication(
        store,
        idempotency,
        directory=directory,
        customers=customers,
        queries=queries,
        company_sharing=sharing,
    )
    attachments = Attachments(pool, LocalDirectoryBlobStore(settings.blob_dir))
    files = AttachmentFiles(attachments, tickets)
    mail = MailApplication(store, idempotency, tickets)
    portal = PortalApplication(store, tickets, customers, portal_queries, attachments, sharing)
    return TicketService(
        settings=settings,
        pool=pool,
        store=store,
        tickets=tickets,
        customer_application=customers,
        directory_application=directory,
        ticket_queries=queries,
        attachments=attachments,
        attachment_files=files,
        ticket_requests=TicketRequests(tickets, directory, files),
        directory_reads=DirectoryReads(directory_queries, customers, directory),
        mail_requests=MailRequests(mail, tickets, files),
        sla_reports=SlaReportReads(SlaReports(pool), tickets, directory),
        activity_reports=ActivityReportReads(ActivityReports(pool), directory),
        portal=portal,
        commands=TicketCommandHandler(CommandOutcomes(pool, store), store, tickets, directory),
        # Catch-ups of several workers take turns safely.
        projector=Projector(store, pool, projections(), pacer=projector_pacer),
    )


@asynccontextmanager
async def started(
    settings: Settings, *, min_size: int, max_size: int
) -> AsyncIterator[TicketService]:
    """The service on a pool of ``min_size``..``max_size`` connections, closed on the way out."""
    pool = await create_pool(settings.database_url, min_size=min_size, max_size=max_size)
    try:
        yield build(pool, settings)
    finally:
        await pool.close()


def token_verifier(settings: Settings) -> TokenVerifier:
    """Verifies the bearer tokens of HTTP callers (the public key of the API gateway)."""
    return TokenVerifier.from_file(settings.jwt_public_key_file)
