"""The branded mail layout and the branding reader (issue #18)."""

from __future__ import annotations

import asyncio
from email import message_from_bytes, policy
from email.message import EmailMessage

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from helpdesk_devstack.images import png
from helpdesk_platform.mail_branding import (
    DEFAULT_ACCENT,
    MAX_INLINE_LOGO,
    BrandingReader,
    Logo,
    MailBranding,
    add_branded_html,
    branded_html,
    safe_accent,
    text_to_html,
)


def test_only_rrggbb_colours_reach_the_style() -> None:
    assert safe_accent("#0b7285") == "#0b7285"
    assert safe_accent("#0B7285") == "#0B7285"
    for hostile in ("red", "#fff", "#0b7285;background:url(x)", "", "#0b728g"):
        assert safe_accent(hostile) == DEFAULT_ACCENT


def test_text_becomes_escaped_paragraphs_with_links_only_when_asked() -> None:
    text = "Hello <b>Ayu</b>,\nline two\n\nhttps://help.example/a?token=x&y=1 ok"
    assert text_to_html(text) == (
        "<p>Hello &lt;b&gt;Ayu&lt;/b&gt;,<br>line two</p>"
        "<p>https://help.example/a?token=x&amp;y=1 ok</p>"
    )
    linked = text_to_html(text, links=True)
    assert '<a href="https://help.example/a?token=x&amp;y=1">' in linked
    assert "<a " not in text_to_html("javascript:alert(1)", links=True)


def test_the_layout_shows_the_logo_or_the_name_and_the_accent() -> None:
    branding = MailBranding("Toko <Sinar>", "#2b8a3e")
    with_logo = branded_html("<p>Hi</p>", branding, logo_cid="<logo.1@helpdesk.local>")
    assert 'src="cid:logo.1@helpdesk.local"' in with_logo
    assert 'alt="Toko &lt;Sinar&gt;"' in with_logo
    assert "border-top:4px solid #2b8a3e" in with_logo
    assert "<p>Hi</p>" in with_logo
    named = branded_html("<p>Hi</p>", branding, signature="Tim <Support>\nJakarta")
    assert "<img" not in named
    assert "Toko &lt;Sinar&gt;</strong>" in named
    assert "Tim &lt;Support&gt;<br>Jakarta" in named
    hostile = branded_html("", MailBranding("X", "red;background:url(//evil)"))
    assert "evil" not in hostile and DEFAULT_ACCENT in hostile


def _message() -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = "Hello"
    message.set_content("Hello")
    return message


def test_a_small_logo_travels_inline_with_the_html_part() -> None:
    logo = png()
    message = _message()
    add_branded_html(
        message, "<p>Hello</p>", MailBranding("Toko", logo=Logo("image/png", logo)),
        domain="helpdesk.local",
    )  # fmt: skip
    parsed = message_from_bytes(bytes(message), policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    html_part = parsed.get_body(("html",))
    assert html_part is not None
    images = [part for part in parsed.walk() if part.get_content_type() == "image/png"]
    assert len(images) == 1
    assert images[0].get_payload(decode=True) == logo
    cid = str(images[0]["Content-ID"]).strip("<>")
    assert cid.endswith("@helpdesk.local")
    assert f'src="cid:{cid}"' in html_part.get_content()  # type: ignore[attr-defined]
    assert parsed.get_body(("plain",)).get_content().strip() == "Hello"  # type: ignore[union-attr]


def test_a_large_logo_is_left_out_and_the_name_heads_the_mail() -> None:
    message = _message()
    big = Logo("image/png", png() + b"\0" * MAX_INLINE_LOGO)
    add_branded_html(message, "<p>Hi</p>", MailBranding("Toko", logo=big), domain="h.local")
    assert [p for p in message.walk() if p.get_content_maintype() == "image"] == []
    html_part = message.get_body(("html",))
    assert html_part is not None
    assert "Toko</strong>" in html_part.get_content()  # type: ignore[attr-defined]


class _BrandingApp:
    """The ticket service's two public branding reads, as a small ASGI app whose answers the
    test changes (and which counts how often each was read)."""

    def __init__(self) -> None:
        self.document: dict[str, object] = {
            "helpdesk_name": "Toko", "accent_color": "#2b8a3e", "logo_url": None,
        }  # fmt: skip
        self.logo = png()
        self.reads = {"document": 0, "logo": 0}
        self.down = False

        async def document(request: Request) -> Response:
            self.reads["document"] += 1
            if self.down:
                return Response(status_code=503)
            return JSONResponse(self.document)

        async def logo(request: Request) -> Response:
            self.reads["logo"] += 1
            return Response(self.logo, media_type="image/png")

        self.app = Starlette(routes=[Route("/branding", document), Route("/branding/logo", logo)])


def test_the_reader_keeps_the_branding_and_refetches_the_logo_only_when_it_changes() -> None:
    async def scenario() -> None:
        served = _BrandingApp()
        now = [0.0]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=served.app)) as client:
            read = BrandingReader(client, "http://tickets", keep_seconds=60, clock=lambda: now[0])
            first = await read()
            assert first == MailBranding("Toko", "#2b8a3e", None)
            served.document["helpdesk_name"] = "Toko Baru"
            assert (await read()).helpdesk_name == "Toko"  # kept for a minute
            now[0] = 61
            served.document["logo_url"] = "branding/logo?v=abc"
            second = await read()
            assert second.helpdesk_name == "Toko Baru"
            assert second.logo == Logo("image/png", served.logo)
            now[0] = 122
            await read()
            assert served.reads == {"document": 3, "logo": 1}  # same URL: not read again
            now[0] = 183
            served.down = True
            assert await read() == second  # the ticket service down: the last branding
            now[0] = 244
            served.down = False
            served.document["accent_color"] = "url(x)"
            assert (await read()).accent_color == DEFAULT_ACCENT

    asyncio.run(scenario())
