"""The helpdesk's branding: name, accent colour, logo and favicon (pure rules).

Managers replace it as a whole (``BrandingConfigured`` on its own configuration stream); until
they do, the defaults below apply. Images are checked by their bytes, not by the type a client
claims: only raster formats browsers show safely (PNG, JPEG, GIF, WebP, ICO). SVG is refused: it
can carry scripts, and the images are served from the portals' own origin.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Literal

from helpdesk_events.directory import BrandImage, BrandingConfigured
from ticket_service.domain.errors import InvalidTransition

#: The one stream holding the branding.
BRANDING_STREAM_ID = uuid.UUID("00000000-0000-4000-8000-00000000b4a0")
DEFAULT_NAME = "Helpdesk"
DEFAULT_ACCENT = "#1c7ed6"

ImageKind = Literal["logo", "favicon"]
MAX_IMAGE_BYTES: dict[str, int] = {"logo": 512 * 1024, "favicon": 100 * 1024}

#: Leading bytes of each accepted format, and its media type.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"\x00\x00\x01\x00", "image/x-icon"),
)
_COLOUR = re.compile(r"^#?([0-9a-fA-F]{6})$")


class InvalidImage(InvalidTransition):
    """The uploaded file is not an accepted image, or too large (HTTP 422 / 413)."""


@dataclass(frozen=True)
class Branding:
    helpdesk_name: str = DEFAULT_NAME
    accent_color: str = DEFAULT_ACCENT
    logo: BrandImage | None = None
    favicon: BrandImage | None = None

    @staticmethod
    def from_event(event: BrandingConfigured) -> Branding:
        return Branding(event.helpdesk_name, event.accent_color, event.logo, event.favicon)

    def image(self, kind: ImageKind) -> BrandImage | None:
        return self.logo if kind == "logo" else self.favicon


def sniff_image(head: bytes) -> str:
    """The media type of an image from its first bytes, or :class:`InvalidImage`."""
    for signature, media_type in _SIGNATURES:
        if head.startswith(signature):
            return media_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    raise InvalidImage("the file is not a PNG, JPEG, GIF, WebP or ICO image (SVG is not accepted)")


def check_image_size(kind: ImageKind, size_bytes: int) -> None:
    limit = MAX_IMAGE_BYTES[kind]
    if size_bytes > limit:
        raise InvalidImage(f"the {kind} is limited to {limit // 1024} KB; got {size_bytes} bytes")


def configure(
    current: Branding,
    *,
    helpdesk_name: str | None = None,
    accent_color: str | None = None,
    logo: BrandImage | None = None,
    favicon: BrandImage | None = None,
    remove: tuple[ImageKind, ...] = (),
) -> BrandingConfigured:
    """The new branding: ``current`` with the given parts replaced (or images removed)."""
    name = current.helpdesk_name if helpdesk_name is None else helpdesk_name.strip()
    if not name or len(name) > 100:
        raise InvalidTransition("the helpdesk name is 1 to 100 characters")
    colour = current.accent_color if accent_color is None else accent_color.strip()
    match = _COLOUR.match(colour)
    if match is None:
        raise InvalidTransition(
            f"the accent colour is #rrggbb (e.g. {DEFAULT_ACCENT}); got {colour!r}"
        )
    return BrandingConfigured(
        helpdesk_name=name,
        accent_color=f"#{match.group(1).lower()}",
        logo=None if "logo" in remove else (logo or current.logo),
        favicon=None if "favicon" in remove else (favicon or current.favicon),
    )
