"""Branding routes: the helpdesk's name, accent colour, logo and favicon.

Reading needs no token: the sign-in pages show the branding before anyone is signed in.
Images are served with a strong ETag (their SHA-256) and cached by browsers; the branding
document names each image's URL with its hash, so a new logo is a new URL and appears on the
next load. Managers change it; images are checked by their bytes (type) and size.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, HTTPException, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from ticket_service.domain.branding import MAX_IMAGE_BYTES, Branding, ImageKind
from ticket_service.domain.errors import BlobTooLarge
from ticket_service.entrypoints.dependencies import Caller, command_context
from ticket_service.entrypoints.errors import refusals
from ticket_service.entrypoints.http_common import ERRORS
from ticket_service.entrypoints.http_portal import portal

router = APIRouter(tags=["branding"])
#: Clients revalidate the branding document on every load (a manager's change shows on the next
#: load; an unchanged one costs a small answer)…
DOCUMENT_CACHE = "no-cache"
#: …while an image URL carries its hash, so it never changes under the same URL.
IMAGE_CACHE = "public, max-age=86400"


class BrandingView(BaseModel):
    helpdesk_name: str
    accent_color: str = Field(description="#rrggbb")
    logo_url: str | None = Field(description="the logo, relative to the API root; null if none")
    favicon_url: str | None
    version: int = Field(description="0 while the defaults apply")

    @classmethod
    def of(cls, branding: Branding, version: int) -> BrandingView:
        def url(kind: ImageKind) -> str | None:
            image = branding.image(kind)
            return None if image is None else f"branding/{kind}?v={image.sha256[:16]}"

        return cls(
            helpdesk_name=branding.helpdesk_name,
            accent_color=branding.accent_color,
            logo_url=url("logo"),
            favicon_url=url("favicon"),
            version=version,
        )


class BrandingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    helpdesk_name: str | None = Field(default=None, max_length=100, description="plain text")
    accent_color: str | None = Field(default=None, max_length=7, description="#rrggbb")
    remove: list[Literal["logo", "favicon"]] = Field(
        default_factory=list, description="images to remove"
    )


def _answer(branding: Branding, version: int) -> Response:
    return Response(
        BrandingView.of(branding, version).model_dump_json(),
        media_type="application/json",
        headers={"Cache-Control": DOCUMENT_CACHE, "ETag": f'"{version}"'},
    )


@router.get("/branding", response_model=BrandingView)
async def get_branding(request: Request) -> Response:
    """The branding, for everyone (no token): the portals' sign-in pages show it."""
    return _answer(*await portal(request).branding())


@router.put("/branding", response_model=BrandingView, responses=ERRORS)
async def configure_branding(
    request: Request,
    body: BrandingBody,
    caller: Caller,
    x_correlation_id: Annotated[str | None, Header()] = None,
) -> Response:
    """Managers: the helpdesk name and accent colour (only what is given changes); `remove`
    drops the logo or favicon."""
    with refusals():
        branding, version = await portal(request).configure_branding(
            command_context(caller, x_correlation_id),
            helpdesk_name=body.helpdesk_name,
            accent_color=body.accent_color,
            remove=tuple(body.remove),
        )
    return _answer(branding, version)


@router.put(
    "/branding/{kind}",
    response_model=BrandingView,
    responses={**ERRORS, 413: {"model": ERRORS[422]["model"]}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def upload_image(
    request: Request,
    kind: Literal["logo", "favicon"],
    caller: Caller,
    x_correlation_id: Annotated[str | None, Header()] = None,
) -> Response:
    """Managers: upload the logo (at most 512 KB) or favicon (100 KB) as the raw body: PNG,
    JPEG, GIF, WebP or ICO, recognised by its bytes (SVG is refused: it can carry scripts)."""
    limit = MAX_IMAGE_BYTES[kind]
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the {kind} is limited to {limit // 1024} KB")
    context = command_context(caller, x_correlation_id)
    try:
        with refusals():  # not an image: 422
            branding, version = await portal(request).upload_image(kind, request.stream(), context)
    except BlobTooLarge:
        raise HTTPException(413, f"the {kind} is limited to {limit // 1024} KB") from None
    return _answer(branding, version)


@router.get("/branding/{kind}", responses={404: {"model": ERRORS[404]["model"]}})
async def get_image(
    request: Request,
    kind: Literal["logo", "favicon"],
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The logo or favicon (no token), cached by browsers; 304 when the ETag still matches."""
    found = await portal(request).image(kind)
    if found is None:
        raise HTTPException(404, f"no {kind} is configured")
    image, chunks = found
    etag = f'"{image.sha256}"'
    headers = {
        "ETag": etag,
        "Cache-Control": IMAGE_CACHE,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'",
    }
    if if_none_match is not None and etag in {t.strip() for t in if_none_match.split(",")}:
        await chunks.aclose()  # type: ignore[attr-defined]
        return Response(status_code=304, headers=headers)
    return StreamingResponse(
        chunks,
        media_type=image.content_type,
        headers={**headers, "Content-Length": str(image.size_bytes)},
    )
