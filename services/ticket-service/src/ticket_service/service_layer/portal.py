"""Use cases of the customer portal's features (issue #18): satisfaction ratings (CSAT), the
customer's "my issue is resolved", a company sharing its tickets with its customers, and the
helpdesk's branding. Access rules come from :mod:`ticket_service.service_layer.access`."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from helpdesk_events import DomainEvent
from helpdesk_events.customers import COMPANY, CompanyPortalVisibilityChanged
from helpdesk_events.directory import BrandImage, BrandingConfigured
from helpdesk_events.tickets import RatingScale, SatisfactionRated
from ticket_service.adapters.attachments import Attachments
from ticket_service.adapters.portal_queries import CsatFigures, PortalQueries
from ticket_service.domain import satisfaction
from ticket_service.domain.branding import (
    BRANDING_STREAM_ID,
    MAX_IMAGE_BYTES,
    Branding,
    ImageKind,
    check_image_size,
    sniff_image,
)
from ticket_service.domain.branding import configure as configure_branding
from ticket_service.domain.errors import TicketNotFound
from ticket_service.domain.satisfaction import CsatGroupBy
from ticket_service.domain.ticket import Ticket
from ticket_service.service_layer import access
from ticket_service.service_layer.access import Action
from ticket_service.service_layer.company_sharing import CompanySharing
from ticket_service.service_layer.context import CommandContext, envelope_for
from ticket_service.service_layer.customers import CustomerApplication
from ticket_service.service_layer.event_store import EventStore, StreamAppend
from ticket_service.service_layer.streams import pinned_or_retried
from ticket_service.service_layer.tickets import (
    TICKET_STREAM,
    TicketApplication,
    fold,
)

BRANDING_CACHE_SECONDS = 1.0


class PortalApplication:
    def __init__(
        self,
        store: EventStore,
        tickets: TicketApplication,
        customers: CustomerApplication,
        queries: PortalQueries,
        attachments: Attachments,
        sharing: CompanySharing,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._tickets = tickets
        self._customers = customers
        self._queries = queries
        self._attachments = attachments
        self._sharing = sharing
        self._clock = clock
        self._branding: tuple[float, Branding, int] | None = None

    # --- company visibility -------------------------------------------------------------------

    async def shared_company(self, who: access.Principal) -> uuid.UUID | None:
        """The customer's company, when it shares its tickets with its customers; else None."""
        return await self._sharing.shared_company(who)

    async def share_company_tickets(
        self, company_id: uuid.UUID, enabled: bool, context: CommandContext
    ) -> bool:
        """Let the company's customers see all its tickets in the portal (or stop it)."""
        access.require(access.caller_of(context), Action.SHARE_COMPANY_TICKETS)

        async def attempt() -> bool:
            company = await self._customers.get_company(company_id)
            event = CompanyPortalVisibilityChanged(customers_see_company_tickets=enabled)
            await self._append(company_id, COMPANY, company.version, event, context)
            return enabled

        result = await pinned_or_retried(None, attempt)
        self._sharing.forget()
        return result

    async def company_shares_tickets(self, who: access.Principal, company_id: uuid.UUID) -> bool:
        access.require(who, Action.MANAGE_CONTACTS)
        await self._customers.get_company(company_id)
        return await self._queries.company_shares_tickets(company_id)

    # --- satisfaction --------------------------------------------------------------------------

    async def rate(
        self,
        ticket_id: uuid.UUID,
        *,
        scale: RatingScale,
        score: int,
        comment: str | None,
        context: CommandContext,
    ) -> tuple[SatisfactionRated, datetime]:
        """The ticket's customer rates its current resolution (once per resolution); returns
        the rating and when it was recorded."""
        who = access.caller_of(context)
        access.require(who, Action.RATE_TICKET)

        async def attempt() -> tuple[SatisfactionRated, datetime]:
            ticket, state = await self._own_ticket(who, ticket_id)
            event = satisfaction.rate(ticket, state, scale=scale, score=score, comment=comment)
            at = await self._append(ticket_id, TICKET_STREAM, ticket.version, event, context)
            return event, at

        return await pinned_or_retried(None, attempt)

    async def resolve(self, ticket_id: uuid.UUID, context: CommandContext) -> Ticket:
        """The ticket's customer confirms the issue is resolved: it becomes Solved."""
        who = access.caller_of(context)
        access.require(who, Action.RESOLVE_OWN_TICKET)

        async def attempt() -> None:
            ticket, _ = await self._own_ticket(who, ticket_id)
            options, _ = await self._tickets.options()
            event = satisfaction.resolve_by_customer(ticket, options)
            await self._append(ticket_id, TICKET_STREAM, ticket.version, event, context)

        await pinned_or_retried(None, attempt)
        return await self._tickets.read_ticket(who, ticket_id)

    async def _own_ticket(
        self, who: access.Principal, ticket_id: uuid.UUID
    ) -> tuple[Ticket, satisfaction.SatisfactionState]:
        recorded = await self._tickets.timeline(ticket_id)
        options, _ = await self._tickets.options()
        ticket = fold(ticket_id, recorded, options)
        if not access.owns_ticket(who, ticket):
            raise TicketNotFound(f"no ticket {ticket_id}")
        state = satisfaction.satisfaction_of(r.envelope.payload() for r in recorded)
        return ticket, state

    async def ratings(self, who: access.Principal, ticket_id: uuid.UUID) -> list[dict[str, object]]:
        """The ticket's ratings, for whoever may see the ticket."""
        await self._tickets.visible_ticket(who, ticket_id)
        return [dict(row) for row in await self._queries.ratings(ticket_id)]

    async def csat(
        self, who: access.Principal, group_by: CsatGroupBy, start: datetime, end: datetime
    ) -> list[CsatFigures]:
        access.require(who, Action.READ_REPORTS)
        return await self._queries.csat(group_by, start, end)

    # --- branding ------------------------------------------------------------------------------

    async def branding(self) -> tuple[Branding, int]:
        """The branding and its stream version (0: the defaults), cached for a second."""
        now = time.monotonic()
        if self._branding is not None and now - self._branding[0] < BRANDING_CACHE_SECONDS:
            return self._branding[1], self._branding[2]
        recorded = await self._store.read_stream(BRANDING_STREAM_ID)
        branding, version = Branding(), 0
        if recorded:
            event = recorded[-1].envelope.payload()
            assert isinstance(event, BrandingConfigured)
            branding, version = Branding.from_event(event), recorded[-1].envelope.stream_version
        self._branding = (now, branding, version)
        return branding, version

    async def configure_branding(
        self,
        context: CommandContext,
        *,
        helpdesk_name: str | None = None,
        accent_color: str | None = None,
        remove: tuple[ImageKind, ...] = (),
        logo: BrandImage | None = None,
        favicon: BrandImage | None = None,
    ) -> tuple[Branding, int]:
        access.require(access.caller_of(context), Action.CONFIGURE_BRANDING)

        async def attempt() -> None:
            self._branding = None
            current, version = await self.branding()
            event = configure_branding(
                current,
                helpdesk_name=helpdesk_name,
                accent_color=accent_color,
                logo=logo,
                favicon=favicon,
                remove=remove,
            )
            await self._append(BRANDING_STREAM_ID, "config", version, event, context)

        await pinned_or_retried(None, attempt)
        self._branding = None
        return await self.branding()

    async def upload_image(
        self, kind: ImageKind, chunks: AsyncIterator[bytes], context: CommandContext
    ) -> tuple[Branding, int]:
        """Store a logo or favicon (checked by its bytes and size) and make it the branding's."""
        who = access.caller_of(context)
        access.require(who, Action.CONFIGURE_BRANDING)
        first = b""
        async for chunk in chunks:
            first = chunk
            break
        media_type = sniff_image(first[:16])

        async def everything() -> AsyncIterator[bytes]:
            yield first
            async for chunk in chunks:
                yield chunk

        ref = await self._attachments.upload(
            kind,
            media_type,
            everything(),
            uploaded_by=who.subject,
            max_bytes=MAX_IMAGE_BYTES[kind],
        )
        check_image_size(kind, ref.size_bytes)
        image = BrandImage(
            attachment_id=ref.attachment_id,
            content_type=media_type,
            size_bytes=ref.size_bytes,
            sha256=ref.sha256,
        )
        if kind == "logo":
            return await self.configure_branding(context, logo=image)
        return await self.configure_branding(context, favicon=image)

    async def image(self, kind: ImageKind) -> tuple[BrandImage, AsyncIterator[bytes]] | None:
        """The current logo or favicon and its bytes, or None when there is none."""
        branding, _ = await self.branding()
        image = branding.image(kind)
        if image is None:
            return None
        _, chunks = await self._attachments.open(image.attachment_id)
        return image, chunks

    # --- helpers ---------------------------------------------------------------------------------

    async def _append(
        self,
        stream_id: uuid.UUID,
        stream_type: str,
        version: int,
        event: DomainEvent,
        context: CommandContext,
    ) -> datetime:
        now = self._clock()
        envelope = envelope_for(
            event, stream_id=stream_id, stream_version=version + 1, context=context, occurred_at=now
        )
        await self._store.append(
            [StreamAppend(stream_id, stream_type, version, [envelope])],
            traceparent=context.traceparent,
        )
        return now
