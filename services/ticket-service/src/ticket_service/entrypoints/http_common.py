"""What every router of the ticket service shares: the error body, request headers, paging
and the one response builder for records with an ``ETag``."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Header, HTTPException, Query, Response
from pydantic import BaseModel, Field

from helpdesk_platform.config_http import if_match_version, record_headers

__all__ = [
    "ERRORS",
    "HTML",
    "PLAIN_TEXT",
    "RECORD_ERRORS",
    "CorrelationId",
    "Country",
    "IfMatch",
    "ListPage",
    "Page",
    "PageSize",
    "Problem",
    "Text",
    "expected_from",
    "nothing_to_change",
    "resource",
]


class Problem(BaseModel):
    detail: str


#: The documented refusals of the ticket routes (and of records: without 412).
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem} for code in (400, 401, 403, 404, 409, 412, 422, 428)
}
RECORD_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem} for code in (400, 401, 403, 404, 409, 422)
}

PLAIN_TEXT = "plain text: stored and returned as sent, never HTML; clients must escape it"
HTML = "HTML or plain text; stored sanitised (no scripts, event handlers or styles)"
Text = Annotated[str, Field(max_length=100)]
Country = Annotated[
    str, Field(max_length=2, description="ISO 3166-1 alpha-2, e.g. ID, IN, SG (422 otherwise)")
]
Language = Annotated[
    str, Field(max_length=2, description="ISO 639-1, e.g. id, en, hi (422 otherwise)")
]

IfMatch = Annotated[
    str | None, Header(description='the ETag you read, e.g. "3": refuse with 409 if it moved on')
]
CorrelationId = Annotated[str | None, Header()]
Page = Annotated[int, Query(ge=1, le=10_000)]
PageSize = Annotated[int, Query(ge=1, le=200)]

ItemT = TypeVar("ItemT", bound=BaseModel)


class ListPage(BaseModel, Generic[ItemT]):
    """One page of a list, and how many items there are in all."""

    items: list[ItemT]
    page: int
    page_size: int
    total: int


def resource(
    view: BaseModel,
    version: int,
    status_code: int = 200,
    location: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The record as JSON with its version as ``ETag`` (and ``Location`` when new). Built from a
    validated view, so FastAPI's second validation of the response model (measurable at
    hundreds of requests/s) is skipped."""
    return Response(
        view.model_dump_json(),
        status_code,
        headers={**record_headers(version, location), **(headers or {})},
        media_type="application/json",
    )


def expected_from(
    if_match: str | None, body_version: int | None = None, *, read_from: str
) -> int | None:
    """The version a change was decided on: ``If-Match`` (see
    :func:`helpdesk_platform.config_http.if_match_version`; optional here, ``*`` = any), else
    the ``expected_version`` of the body, else ``None`` (the record as it is)."""
    if if_match is None:
        return body_version
    return if_match_version(if_match, required=False, read_from=read_from)


def nothing_to_change(fields: tuple[str, ...]) -> HTTPException:
    return HTTPException(422, f"nothing to change: give at least one of {', '.join(fields)}")
