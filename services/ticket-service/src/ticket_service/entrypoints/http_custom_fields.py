"""Custom ticket field routes (#20 item 6): read the definitions (everyone; customers the
portal form's), replace them (managers, naming the version they changed in If-Match)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response
from pydantic import BaseModel, ConfigDict, Field

from helpdesk_events.directory import CustomFieldDefinition
from ticket_service.domain.custom_fields import CustomFields
from ticket_service.entrypoints.dependencies import Caller, Tickets, command_context
from ticket_service.entrypoints.errors import refusals
from ticket_service.entrypoints.http_common import ERRORS, expected_from

router = APIRouter(tags=["configuration"])


class CustomFieldsBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "fields": [
                        {
                            "key": "account_manager",
                            "label": "Account manager",
                            "kind": "user",
                            "forms": ["agent"],
                        },
                        {
                            "key": "device",
                            "label": "Device",
                            "kind": "select",
                            "options": ["Laptop", "Phone"],
                            "required": True,
                            "forms": ["agent", "portal"],
                            "customer_settable": True,
                        },
                    ]
                }
            ]
        },
    )
    fields: list[CustomFieldDefinition] = Field(
        default_factory=list, max_length=100, description="in the order forms show them"
    )

    @classmethod
    def of(cls, fields: CustomFields) -> CustomFieldsBody:
        return cls(fields=list(fields.fields))


@router.get("/custom-fields", response_model=CustomFieldsBody, responses=ERRORS)
async def get_custom_fields(
    caller: Caller, tickets: Tickets, response: Response
) -> CustomFieldsBody:
    """The custom ticket fields (customers: those on the customer portal's form); the `ETag` is
    the version to name when changing them."""
    with refusals():
        fields, version = await tickets.custom_fields.read(caller)
    response.headers["ETag"] = f'"{version}"'
    return CustomFieldsBody.of(fields)


@router.put("/custom-fields", response_model=CustomFieldsBody, responses=ERRORS)
async def put_custom_fields(
    body: CustomFieldsBody,
    caller: Caller,
    tickets: Tickets,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
    x_correlation_id: Annotated[str | None, Header()] = None,
) -> CustomFieldsBody:
    """Replace the custom ticket fields (managers). Name the version you changed in `If-Match`
    (428 without, 409 when someone changed them since). Kinds: text, number, date (ISO),
    select and multi_select (with `options`), checkbox, user (an agent id)."""
    with refusals():
        fields, version = await tickets.custom_fields.configure(
            body.fields,
            command_context(caller, x_correlation_id),
            expected_from(if_match, read_from="GET /custom-fields"),
        )
    response.headers["ETag"] = f'"{version}"'
    return CustomFieldsBody.of(fields)
