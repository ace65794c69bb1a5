"""The helpdesk's branding in the mail it sends (issue #18): its name as the sender and under the
text, its accent colour and logo at the top of the HTML part.

Two services send mail — the mail gateway (replies, acknowledgements, rating requests) and the API
gateway (sign-in links, invitations, password resets) — and both read the ticket service's public
branding document (``GET /branding``, ``GET /branding/logo``) and lay the HTML out the same way,
so that lives here once.

The logo travels inside the mail as an inline part (``cid:``), not as a link: most mail clients
hide remote images until the reader allows them, and a remote image would tell us when a mail was
opened. A logo larger than :data:`MAX_INLINE_LOGO` is left out (the name heads the mail instead):
it would go out with every reply. The accent colour is checked again here (``#rrggbb`` only)
because it is written into a style attribute. Mail never waits long for branding nor fails for
it: when the ticket service does not answer, the last branding read (or the defaults) is used.
"""

from __future__ import annotations

import hashlib
import html
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

import httpx
import structlog

log = structlog.get_logger()

DEFAULT_NAME = "Helpdesk"
DEFAULT_ACCENT = "#1c7ed6"
#: Larger logos are not embedded in every mail (the ticket service accepts up to 512 KB).
MAX_INLINE_LOGO = 150 * 1024
_ACCENT = re.compile(r"^#[0-9a-fA-F]{6}$")
_URL = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True)
class Logo:
    content_type: str
    data: bytes


@dataclass(frozen=True)
class MailBranding:
    helpdesk_name: str = DEFAULT_NAME
    accent_color: str = DEFAULT_ACCENT
    logo: Logo | None = None


def safe_accent(value: str) -> str:
    """``value`` when it is a ``#rrggbb`` colour, else the default (it goes into CSS)."""
    return value if _ACCENT.match(value) else DEFAULT_ACCENT


def text_to_html(text: str, *, links: bool = False) -> str:
    """Plain text as HTML paragraphs (blank lines part them), escaped; ``links`` makes the
    http(s) addresses in it clickable."""

    def line_html(line: str) -> str:
        escaped = html.escape(line)
        if not links:
            return escaped
        return _URL.sub(lambda found: f'<a href="{found.group(0)}">{found.group(0)}</a>', escaped)

    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(
        "<p>" + "<br>".join(line_html(line) for line in p.splitlines()) + "</p>" for p in paragraphs
    )


def branded_html(
    body_html: str, branding: MailBranding, *, logo_cid: str | None = None, signature: str = ""
) -> str:
    """The HTML part: a header with the logo (``logo_cid``) or the name, the accent colour as
    its top rule, ``body_html`` (already sanitised), the ``signature`` (plain text) and the name
    at the foot. Tables and inline styles, which every mail client renders."""
    name = html.escape(branding.helpdesk_name)
    accent = safe_accent(branding.accent_color)
    if logo_cid:
        header = (
            f'<img src="cid:{logo_cid.strip("<>")}" alt="{name}" height="40" '
            'style="height:40px;max-width:240px;border:0;display:block">'
        )
    else:
        header = f'<strong style="font-size:18px;color:#1f2933">{name}</strong>'
    signed = (
        '<p style="color:#5f6b7a">-- <br>' + html.escape(signature).replace("\n", "<br>") + "</p>"
        if signature
        else ""
    )
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        '<body style="margin:0;padding:0;background:#f4f5f7">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        'style="border-collapse:collapse;background:#f4f5f7"><tr><td style="padding:24px 12px">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        f'style="border-collapse:collapse;width:100%;max-width:600px;margin:0 auto;background:#fff;'
        f"border-top:4px solid {accent};font-family:Arial,Helvetica,sans-serif;font-size:15px;"
        'line-height:1.5;color:#1f2933">'
        f'<tr><td style="padding:16px 24px;border-bottom:1px solid #e4e7eb">{header}</td></tr>'
        '<tr><td style="padding:24px;overflow-wrap:anywhere;word-break:break-word">'
        f"{body_html}{signed}</td></tr>"
        f'<tr><td style="padding:12px 24px;font-size:12px;color:#5f6b7a">{name}</td></tr>'
        "</table></td></tr></table></body></html>"
    )


def add_branded_html(
    message: EmailMessage,
    body_html: str,
    branding: MailBranding,
    *,
    domain: str,
    signature: str = "",
) -> None:
    """Add the branded HTML alternative to ``message`` (its text part already set), with the
    logo as an inline part of it when there is one small enough."""
    logo = branding.logo if branding.logo and len(branding.logo.data) <= MAX_INLINE_LOGO else None
    cid = make_msgid(idstring="logo", domain=domain) if logo else None
    message.add_alternative(
        branded_html(body_html, branding, logo_cid=cid, signature=signature), subtype="html"
    )
    html_part = message.get_body(("html",))
    if logo is not None and cid is not None and html_part is not None:
        maintype, _, subtype = logo.content_type.partition("/")
        html_part.add_related(
            logo.data, maintype=maintype, subtype=subtype, cid=cid, disposition="inline"
        )


class BrandingReader:
    """The ticket service's branding, read at most once per ``keep_seconds``; the logo's bytes
    are fetched again only when its URL (which carries its hash) changes."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        *,
        keep_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._keep = keep_seconds
        self._clock = clock
        self._branding = MailBranding()
        self._logo_url: str | None = None
        self._fresh_until = float("-inf")

    async def __call__(self) -> MailBranding:
        if self._clock() < self._fresh_until:
            return self._branding
        try:
            answer = await self._client.get(f"{self._base}/branding", timeout=3.0)
            answer.raise_for_status()
            document = answer.json()
            name = str(document["helpdesk_name"]).strip() or DEFAULT_NAME
            accent = safe_accent(str(document.get("accent_color") or DEFAULT_ACCENT))
            logo_url = document.get("logo_url")
            logo = self._branding.logo if logo_url == self._logo_url else None
            if logo_url and logo is None:
                logo = await self._fetch_logo(str(logo_url))
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
            log.warning("branding unavailable; mail keeps the last one", error=repr(error))
            return self._branding
        self._branding = MailBranding(name, accent, logo)
        self._logo_url = logo_url
        self._fresh_until = self._clock() + self._keep
        return self._branding

    async def _fetch_logo(self, relative_url: str) -> Logo:
        answer = await self._client.get(f"{self._base}/{relative_url.lstrip('/')}", timeout=5.0)
        answer.raise_for_status()
        content_type = answer.headers.get("content-type", "").split(";")[0].strip()
        if not content_type.startswith("image/"):
            raise ValueError(f"the logo is served as {content_type!r}, not an image")
        log.info("branding logo read", sha256=hashlib.sha256(answer.content).hexdigest()[:16])
        return Logo(content_type, answer.content)
