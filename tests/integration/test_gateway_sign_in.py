"""Sign-in through the gateway on the real stack: a manager invites an agent through the API,
the invitation mail arrives in GreenMail (directory event on Kafka → gateway → SMTP), the agent
sets a password through the link, signs in and works tickets; refresh tokens rotate and a
reused one ends the session; role changes and deactivation take effect at the next refresh;
wrong passwords lock the account with backoff; customers sign in by emailed link or code and
see only their own tickets."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import httpx
import jwt
import pytest

from helpdesk_devstack import mailbox
from helpdesk_devstack.images import png
from helpdesk_devstack.kafka_events import commit_offsets
from helpdesk_devstack.tokens import mint_token

from .conftest import ServiceProcess
from .gateway_stack import (
    MANAGER_EMAIL,
    MANAGER_PASSWORD,
    GatewayStack,
    caught_up,
    directory_ends,
    gateway,  # noqa: F401
    refresh_cookie,
    start_gateway,
)

pytestmark = pytest.mark.integration

PASSWORD = "a long and sunny afternoon"


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


async def mail_to(
    stack: GatewayStack, address: str, subject_part: str, *, link: str | None = None
) -> str:
    """The mail to ``address`` whose subject has ``subject_part`` (and whose text has ``link``:
    every gateway a test session starts follows the one directory topic on the shared Kafka and
    invites each new agent, so an invitation comes from each; the test wants its own)."""
    message = await asyncio.to_thread(
        mailbox.wait_for,
        stack.mail,
        address,
        lambda m: subject_part in str(m["Subject"]) and (link is None or link in text_of(m)),
        timeout=90,
    )
    assert message["Auto-Submitted"] == "auto-generated"
    return text_of(message)


def link_token(text: str, path: str) -> str:
    found = re.search(rf"{re.escape(path)}\?token=([A-Za-z0-9_-]+)", text)
    assert found, text
    return found.group(1)


def others_id(tickets: dict[str, dict[str, str]], mine: str) -> str:
    return next(ticket["id"] for email, ticket in tickets.items() if email != mine)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/sign-in", json={"email": email, "password": password})


async def refresh(client: httpx.AsyncClient, cookie: str) -> httpx.Response:
    return await client.post("/api/auth/refresh", headers={"Cookie": f"helpdesk_refresh={cookie}"})


# gateway URL -> (the bootstrap manager's access token, when to sign in again)
_manager_tokens: dict[str, tuple[str, float]] = {}


async def manager_token(client: httpx.AsyncClient) -> str:
    """The bootstrap manager's access token, signed in once per gateway for ten minutes (it lasts
    fifteen): every sign-in counts against the per-address limit of 10 a minute, which this
    module's calls as the manager went over once the suite ran fast enough."""
    cached = _manager_tokens.get(str(client.base_url))
    if cached is not None and cached[1] > time.monotonic():
        return cached[0]
    answer = await sign_in(client, MANAGER_EMAIL, MANAGER_PASSWORD)
    assert answer.status_code == 200, answer.text
    token = str(answer.json()["access_token"])
    _manager_tokens[str(client.base_url)] = (token, time.monotonic() + 600)
    return token


async def invited_agent(
    stack: GatewayStack, client: httpx.AsyncClient, name: str
) -> tuple[str, str]:
    """Invite through the gateway, accept through the mailed link: (agent id, email)."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    invited = await client.post(
        "/api/agents",
        headers=bearer(await manager_token(client)),
        json={"email": email, "name": name, "role": "agent"},
    )
    assert invited.status_code == 201, invited.text
    link = f"{stack.url}/agent/accept-invitation"
    text = await mail_to(stack, email, "invited", link=link)
    token = link_token(text, link)
    accepted = await client.post(
        "/api/auth/invitations/accept", json={"token": token, "password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text
    return invited.json()["id"], email


async def test_invited_agent_sets_a_password_signs_in_and_works_tickets(
    gateway: GatewayStack,  # noqa: F811
) -> None:
    async with gateway.client() as client:
        manager = await manager_token(client)
        me = (await client.get("/api/auth/me", headers=bearer(manager))).json()
        assert me["role"] == "manager" and me["email"] == MANAGER_EMAIL
        record = await client.get("/api/agents/me", headers=bearer(manager))
        assert record.status_code == 200
        assert record.json()["id"] == me["sub"]  # the subject is the directory's agent id

        email = f"sari-{uuid.uuid4().hex[:8]}@example.com"
        invited = await client.post(
            "/api/agents", headers=bearer(manager), json={"email": email, "name": "Sari"}
        )
        assert invited.status_code == 201, invited.text
        link = f"{gateway.url}/agent/accept-invitation"
        text = await mail_to(gateway, email, "invited", link=link)
        assert "Sari" in text
        token = link_token(text, link)

        weak = await client.post(
            "/api/auth/invitations/accept", json={"token": token, "password": "short"}
        )
        assert weak.status_code == 422
        assert "at least 12" in weak.json()["detail"]
        accepted = await client.post(
            "/api/auth/invitations/accept", json={"token": token, "password": PASSWORD}
        )
        assert accepted.status_code == 200, accepted.text  # a weak try did not spend the link
        again = await client.post(
            "/api/auth/invitations/accept", json={"token": token, "password": PASSWORD + "!"}
        )
        assert again.status_code == 400  # once only

        signed_in = await sign_in(client, email.upper(), PASSWORD)
        assert signed_in.status_code == 200, signed_in.text
        body = signed_in.json()
        assert body["token_type"] == "Bearer"
        assert 0 < body["expires_in"] <= 15 * 60
        claims = jwt.decode(body["access_token"], options={"verify_signature": False})
        assert claims["sub"] == invited.json()["id"]
        assert claims["role"] == "agent" and claims["email"] == email
        assert claims["exp"] - claims["iat"] <= 15 * 60 and claims["jti"]
        cookie = signed_in.headers["set-cookie"]
        for flag in ("HttpOnly", "Secure", "SameSite=strict", "Path=/api/auth"):
            assert flag.lower() in cookie.lower(), cookie

        created = await client.post(
            "/api/tickets",
            headers={**bearer(body["access_token"]), "Idempotency-Key": str(uuid.uuid4())},
            json={"subject": "VPN down", "requester": {"email": "budi@example.com"}},
        )
        assert created.status_code == 201, created.text
        fetched = await client.get(
            f"/api/tickets/{created.json()['id']}", headers=bearer(body["access_token"])
        )
        assert fetched.status_code == 200

        wrong = await sign_in(client, email, PASSWORD + "x")
        assert wrong.status_code == 401
        nobody = await sign_in(client, "nobody@example.com", PASSWORD)
        assert nobody.status_code == 401
        assert wrong.json()["detail"] == nobody.json()["detail"]  # nothing reveals an account


async def test_refresh_rotates_and_a_reused_token_ends_the_session(
    gateway: GatewayStack,  # noqa: F811
) -> None:
    async with gateway.client() as client:
        first = refresh_cookie(await sign_in(client, MANAGER_EMAIL, MANAGER_PASSWORD))
        rotated = await refresh(client, first)
        assert rotated.status_code == 200, rotated.text
        second = refresh_cookie(rotated)
        assert second != first
        assert rotated.json()["access_token"]
        third = refresh_cookie(await refresh(client, second))

        stolen = await refresh(client, first)  # the first one, again: someone has a copy
        assert stolen.status_code == 401
        assert "used twice" in stolen.json()["detail"]
        assert (await refresh(client, third)).status_code == 401  # the whole family is revoked

        missing = await client.post("/api/auth/refresh")
        assert missing.status_code == 401
        foreign = await client.post(
            "/api/auth/refresh",
            headers={"Cookie": f"helpdesk_refresh={third}", "Origin": "https://evil.example"},
        )
        assert foreign.status_code == 403

        # Sign-out ends one session; sign-out-everywhere ends all of them
        one = refresh_cookie(await sign_in(client, MANAGER_EMAIL, MANAGER_PASSWORD))
        signed_out = await client.post(
            "/api/auth/sign-out", headers={"Cookie": f"helpdesk_refresh={one}"}
        )
        assert signed_out.status_code == 204
        assert 'helpdesk_refresh=""' in signed_out.headers["set-cookie"]
        assert (await refresh(client, one)).status_code == 401
        a = await sign_in(client, MANAGER_EMAIL, MANAGER_PASSWORD)
        b = await sign_in(client, MANAGER_EMAIL, MANAGER_PASSWORD)
        everywhere = await client.post(
            "/api/auth/sign-out-everywhere", headers=bearer(a.json()["access_token"])
        )
        assert everywhere.status_code == 204
        assert (await refresh(client, refresh_cookie(a))).status_code == 401
        assert (await refresh(client, refresh_cookie(b))).status_code == 401


async def test_role_change_at_next_refresh_and_deactivated_agents_are_out(
    gateway: GatewayStack,  # noqa: F811
) -> None:
    async with gateway.client() as client:
        agent_id, email = await invited_agent(gateway, client, "Rina")
        cookie = refresh_cookie(await sign_in(client, email, PASSWORD))
        manager = await manager_token(client)
        changed = await client.patch(
            f"/api/agents/{agent_id}", headers=bearer(manager), json={"role": "technician"}
        )
        assert changed.status_code == 200, changed.text

        role = "agent"
        for _ in range(150):  # the change travels as a directory event
            answer = await refresh(client, cookie)
            assert answer.status_code == 200, answer.text
            cookie = refresh_cookie(answer)
            role = jwt.decode(answer.json()["access_token"], options={"verify_signature": False})[
                "role"
            ]
            if role == "technician":
                break
            await asyncio.sleep(0.2)
        assert role == "technician"

        deactivated = await client.patch(
            f"/api/agents/{agent_id}", headers=bearer(manager), json={"active": False}
        )
        assert deactivated.status_code == 200, deactivated.text
        status = 200
        for _ in range(150):
            answer = await refresh(client, cookie)
            status = answer.status_code
            if status != 200:
                break
            cookie = refresh_cookie(answer)
            await asyncio.sleep(0.2)
        assert status in (401, 403)
        refused = await sign_in(client, email, PASSWORD)
        assert refused.status_code == 403
        assert "deactivated" in refused.json()["detail"]


async def test_wrong_passwords_lock_the_account_with_backoff(
    gateway: GatewayStack,  # noqa: F811
) -> None:
    async with gateway.client() as client:
        _, email = await invited_agent(gateway, client, "Joko")
        statuses = [
            (await sign_in(client, email, f"guess number {n}")).status_code for n in range(5)
        ]
        assert statuses == [401] * 5
        locked = await sign_in(client, email, "guess number 6")
        assert locked.status_code == 429
        assert 1 <= int(locked.headers["retry-after"]) <= 31
        right_but_locked = await sign_in(client, email, PASSWORD)
        assert right_but_locked.status_code == 429  # even the right password waits

        # Per-address limit on mailed links and resets (10 a minute here)
        target = f"flood-{uuid.uuid4().hex[:6]}@example.com"
        # Sent together so all 11 fall in one window even when a loaded machine is slow to answer.
        answers = await asyncio.gather(
            *(client.post("/api/auth/customer/link", json={"email": target}) for _ in range(11))
        )
        assert sorted(a.status_code for a in answers) == [202] * 10 + [429]


async def test_password_reset_by_mail(gateway: GatewayStack) -> None:  # noqa: F811
    async with gateway.client() as client:
        _, email = await invited_agent(gateway, client, "Dewi")
        old_session = refresh_cookie(await sign_in(client, email, PASSWORD))
        asked = await client.post("/api/auth/password-reset", json={"email": email})
        assert asked.status_code == 202
        stranger = await client.post("/api/auth/password-reset", json={"email": "x@example.com"})
        assert stranger.status_code == 202  # the same answer for anyone
        token = link_token(
            await mail_to(gateway, email, "Reset"), f"{gateway.url}/agent/reset-password"
        )
        new_password = "another quite long password"
        confirmed = await client.post(
            "/api/auth/password-reset/confirm", json={"token": token, "password": new_password}
        )
        assert confirmed.status_code == 200, confirmed.text
        assert (await refresh(client, old_session)).status_code == 401  # other sessions end
        assert (await sign_in(client, email, PASSWORD)).status_code == 401
        assert (await sign_in(client, email, new_password)).status_code == 200


async def test_a_gateway_on_a_new_consumer_group_mails_each_invitation_once(
    gateway: GatewayStack,  # noqa: F811
    start_service: Callable[[str, list[str], dict[str, str]], ServiceProcess],
) -> None:
    """#15: a second gateway on the same store with a new consumer group (a renamed group, a
    second deployment) reads the ``AgentInvited`` events again; each invitation is still mailed
    once: the one before it (already mailed) and the one both gateways read live.

    Its group starts just before this test's first invitation rather than at the topic's start:
    the session's topic also holds the invitations of every other test's stack, whose stores are
    not this one (a gateway with a fresh store mails recent ones; see the README)."""
    bootstrap = gateway.env["HELPDESK_KAFKA_BOOTSTRAP"]
    group = f"api-gateway-directory-reread-{uuid.uuid4().hex[:8]}"
    await commit_offsets(bootstrap, group, await directory_ends(bootstrap))
    async with gateway.client() as client:
        manager = bearer(await manager_token(client))

        async def invite(name: str) -> str:
            email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
            invited = await client.post(
                "/api/agents", headers=manager, json={"email": email, "name": name, "role": "agent"}
            )
            assert invited.status_code == 201, invited.text
            return email

        before = await invite("Ayu")
        await mail_to(gateway, before, "invited", link=f"{gateway.url}/agent/accept-invitation")
        second_url, _, second = await asyncio.to_thread(
            start_gateway,
            start_service,
            common=gateway.env,
            ticket_url=gateway.ticket_url,
            mail=gateway.mail,
            web_dir=Path(gateway.env["HELPDESK_GATEWAY_WEB_DIR"]),
            upstreams=json.loads(gateway.env["HELPDESK_GATEWAY_UPSTREAMS"]),
            manager=(MANAGER_EMAIL, "Helpdesk Manager", MANAGER_PASSWORD),
            extra={"HELPDESK_GATEWAY_DIRECTORY_GROUP": group},
            from_now=False,
        )
        try:
            live = await invite("Bayu")
            ends = await directory_ends(bootstrap)
            for _ in range(600):
                if await caught_up(bootstrap, group, ends):
                    break
                await asyncio.sleep(0.5)
            else:
                raise AssertionError("the second gateway did not read the directory")
            await mail_to(gateway, live, "invited")
            ours = (
                f"{gateway.url}/agent/accept-invitation",
                f"{second_url}/agent/accept-invitation",
            )
            for email in (before, live):
                mails = await asyncio.to_thread(mailbox.messages, gateway.mail, email)
                invitations = [
                    m for m in mails
                    if "invited" in str(m["Subject"]) and any(u in text_of(m) for u in ours)
                ]  # fmt: skip
                assert len(invitations) == 1, (email, [text_of(m) for m in invitations])
        finally:
            second.stop()


async def test_customer_signs_in_by_link_or_code_and_sees_only_their_tickets(
    gateway: GatewayStack,  # noqa: F811
) -> None:
    agent = mint_token(gateway.private_key, "agent", "dev-agent", timedelta(minutes=5))
    customer_email = f"budi-{uuid.uuid4().hex[:8]}@example.com"
    async with gateway.client() as client:
        tickets = {}
        for requester in (customer_email, f"other-{uuid.uuid4().hex[:8]}@example.com"):
            created = await client.post(
                "/api/tickets",
                headers={**bearer(agent), "Idempotency-Key": str(uuid.uuid4())},
                json={"subject": f"Question from {requester}", "requester": {"email": requester}},
            )
            assert created.status_code == 201, created.text
            tickets[requester] = created.json()

        asked = await client.post("/api/auth/customer/link", json={"email": customer_email})
        assert asked.status_code == 202
        text = await mail_to(gateway, customer_email, "sign-in code")
        token = link_token(text, f"{gateway.url}/portal/sign-in")
        redeemed = await client.post("/api/auth/customer/redeem", json={"token": token})
        assert redeemed.status_code == 200, redeemed.text
        access = redeemed.json()["access_token"]
        claims = jwt.decode(access, options={"verify_signature": False})
        assert claims["role"] == "customer"
        assert claims["sub"] == tickets[customer_email]["customer_id"]
        again = await client.post("/api/auth/customer/redeem", json={"token": token})
        assert again.status_code == 400  # once only

        listed: set[str] = set()
        for _ in range(100):  # the ticket list is a read model: wait for it to catch up
            mine = await client.get("/api/tickets?view=all", headers=bearer(access))
            assert mine.status_code == 200
            listed = {item["id"] for item in mine.json()["items"]}
            if listed:
                break
            await asyncio.sleep(0.2)
        assert listed == {tickets[customer_email]["id"]}
        everything = await client.get("/api/tickets?view=all", headers=bearer(agent))
        assert others_id(tickets, customer_email) in {i["id"] for i in everything.json()["items"]}
        hidden = await client.get(
            f"/api/tickets/{others_id(tickets, customer_email)}", headers=bearer(access)
        )
        assert hidden.status_code == 404
        rotated = await refresh(client, refresh_cookie(redeemed))
        assert rotated.status_code == 200
        assert (
            jwt.decode(rotated.json()["access_token"], options={"verify_signature": False})["sub"]
            == claims["sub"]
        )

        # The code path, and a customer with no record yet (registered at sign-in)
        newcomer = f"new-{uuid.uuid4().hex[:8]}@example.com"
        await client.post("/api/auth/customer/link", json={"email": newcomer})
        code = re.search(r"code: (\d{6})", await mail_to(gateway, newcomer, "sign-in code"))
        assert code
        wrong = "000000" if code.group(1) != "000000" else "111111"
        refused = await client.post(
            "/api/auth/customer/redeem", json={"email": newcomer, "code": wrong}
        )
        assert refused.status_code == 400
        by_code = await client.post(
            "/api/auth/customer/redeem", json={"email": newcomer, "code": code.group(1)}
        )
        assert by_code.status_code == 200, by_code.text
        record = await client.get(
            "/api/customers/me", headers=bearer(by_code.json()["access_token"])
        )
        assert record.status_code == 200
        assert record.json()["email"] == newcomer
        neither = await client.post("/api/auth/customer/redeem", json={"email": newcomer})
        assert neither.status_code == 422


async def test_jwks_verifies_the_gateways_tokens(gateway: GatewayStack) -> None:  # noqa: F811
    async with gateway.client() as client:
        keys = (await client.get("/.well-known/jwks.json")).json()["keys"]
        access = await manager_token(client)
    kid = jwt.get_unverified_header(access)["kid"]
    (key,) = [key for key in keys if key["kid"] == kid]
    public = jwt.PyJWK(key).key
    claims = jwt.decode(access, public, algorithms=["RS256"], audience="helpdesk")
    assert claims["iss"] == "helpdesk-local"


async def test_the_gateways_mail_is_sent_in_the_helpdesks_name(
    gateway: GatewayStack,  # noqa: F811
) -> None:
    """Issue #18: branding in outgoing mail - the name a manager set is the sender's name and
    signs the text of a sign-in link (and of invitations and resets: the same sending path); the
    HTML part carries the logo inline and the accent colour."""
    name = f"Toko Sinar {uuid.uuid4().hex[:4]}"
    address = f"branded-{uuid.uuid4().hex[:6]}@customer.example"
    logo = png((0x0B, 0x72, 0x85))
    async with gateway.client() as client:
        manager = bearer(await manager_token(client))
        branded = await client.put(
            "/api/branding",
            headers=manager,
            json={"helpdesk_name": name, "accent_color": "#0b7285"},
        )
        assert branded.status_code == 200, branded.text
        uploaded = await client.put(
            "/api/branding/logo", headers={**manager, "Content-Type": "image/png"}, content=logo
        )
        assert uploaded.status_code == 200, uploaded.text
        asked = await client.post("/api/auth/customer/link", json={"email": address})
        assert asked.status_code == 202
    message = await asyncio.to_thread(
        mailbox.wait_for,
        gateway.mail,
        address,
        lambda m: "sign-in code" in str(m["Subject"]),
        timeout=90,
    )
    assert str(message["From"]).startswith(f'"{name}" <') or str(message["From"]).startswith(
        f"{name} <"
    )
    assert text_of(message).splitlines()[-2:] == ["-- ", name]  # the signature
    markup = message.get_body(("html",))
    assert markup is not None
    page = str(markup.get_content())  # type: ignore[attr-defined]
    assert "border-top:4px solid #0b7285" in page
    assert f'alt="{name}"' in page
    assert f'href="{gateway.url}/portal/sign-in?token=' in page  # the link is clickable
    images = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert len(images) == 1
    cid = str(images[0]["Content-ID"]).strip("<>")
    assert f'src="cid:{cid}"' in page
    assert images[0].get_payload(decode=True) == logo
