"""Builds the gateway from its settings: the routing table, the HTTP client to the services,
keys, rate limits, the accounts store and the sign-in service. One place, so the HTTP app and
the command line assemble the same thing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import httpx

from api_gateway.adapters.accounts import Accounts, create_pool
from api_gateway.adapters.directory import TicketDirectory
from api_gateway.adapters.directory_events import follow_directory
from api_gateway.adapters.mailer import Mailer, SmtpSettings
from api_gateway.adapters.openapi import OpenApiMerger
from api_gateway.adapters.proxy import Proxy, new_session
from api_gateway.adapters.rate_limits import RateLimits
from api_gateway.adapters.signing import KeyRing
from api_gateway.domain.routes import RoutingTable
from api_gateway.service_layer.sign_in import Lifetimes, SignInService
from api_gateway.settings import Settings
from helpdesk_platform.mail_branding import BrandingReader

SERVICE_SUBJECT = "api-gateway"


@dataclass
class Gateway:
    settings: Settings
    table: RoutingTable
    client: httpx.AsyncClient
    session: aiohttp.ClientSession
    proxy: Proxy
    keys: KeyRing
    limits: RateLimits
    accounts: Accounts
    sign_in: SignInService

    def follow_directory(self, stop: asyncio.Event) -> asyncio.Task[None]:
        """Follow ``helpdesk.directory.v1`` for the sign-in service (invitations, resets)
        until ``stop`` is set."""
        return asyncio.create_task(
            follow_directory(
                stop,
                bootstrap=self.settings.kafka_bootstrap,
                group_id=self.settings.gateway_directory_group,
                handle=self.sign_in.on_directory_event,
            )
        )

    def openapi(self, own: Callable[[], dict[str, Any]]) -> OpenApiMerger:
        """The merged OpenAPI document: the gateway's ``own`` and every routed service's."""
        return OpenApiMerger(self.client, self.table, own)

    async def close(self) -> None:
        await self.client.aclose()
        await self.session.close()
        await self.accounts.pool.close()


def load_table(settings: Settings) -> RoutingTable:
    return RoutingTable.load(settings.gateway_routes_file, settings.gateway_upstreams)


def rate_limits(settings: Settings) -> RateLimits:
    return RateLimits(
        {
            "ip": settings.gateway_rate_limit,
            "subject": settings.gateway_subject_rate_limit,
            "auth-ip": settings.gateway_auth_rate_limit,
            "auth-account": settings.gateway_account_rate_limit,
        }
    )


def key_ring(settings: Settings) -> KeyRing:
    return KeyRing.from_files(
        settings.jwt_private_key_file,
        [settings.jwt_public_key_file, *settings.gateway_previous_public_key_files],
    )


async def build(settings: Settings) -> Gateway:
    table = load_table(settings)
    client = httpx.AsyncClient(follow_redirects=False, trust_env=False)
    session = new_session(settings.gateway_max_connections)
    keys = key_ring(settings)

    def service_token(role: str) -> str:
        return keys.sign(
            subject=SERVICE_SUBJECT,
            role=role,
            name="API gateway",
            email=None,
            now=datetime.now(UTC),
            lifetime=timedelta(minutes=2),
        )

    pool = await create_pool(
        settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max
    )
    accounts = Accounts(pool)
    mailer = Mailer(
        SmtpSettings(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            use_tls=settings.smtp_use_tls,
        ),
        settings.gateway_mail_from,
    )
    sign_in = SignInService(
        accounts,
        keys,
        mailer,
        TicketDirectory(client, settings.ticket_service_url, service_token),
        public_url=settings.gateway_public_url,
        branding=BrandingReader(
            client, settings.ticket_service_url, keep_seconds=settings.gateway_branding_seconds
        ),
        lifetimes=Lifetimes(
            access=timedelta(minutes=settings.gateway_access_token_minutes),
            refresh=timedelta(days=settings.gateway_refresh_token_days),
            invitation=timedelta(hours=settings.gateway_invitation_hours),
            reset=timedelta(minutes=settings.gateway_reset_minutes),
            customer_link=timedelta(minutes=settings.gateway_customer_link_minutes),
        ),
    )
    return Gateway(
        settings=settings,
        table=table,
        client=client,
        session=session,
        proxy=Proxy(session, settings.gateway_read_timeout, settings.gateway_connect_timeout),
        keys=keys,
        limits=rate_limits(settings),
        accounts=accounts,
        sign_in=sign_in,
    )
