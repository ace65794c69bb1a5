"""The SLA policies API for managers, on the worker's web server (Faust/aiohttp).

* ``GET /policies`` - the effective policies in the order they are tried, the default last
  (``saved: false``: the built-in default from the settings), and the configuration ``version``,
  also sent as ``ETag``;
* ``GET /policies/{policy_id}`` - one of them (``ETag``: the configuration version);
* ``PUT /policies/{policy_id}`` - create or replace a policy (the body is a
  :class:`~sla_service.domain.policies.PolicyDocument`);
* ``DELETE /policies/{policy_id}`` - delete a saved policy (not the default);
* ``POST /policies/{policy_id}/preview`` - a draft of the policy (the ``PUT`` body) checked as a
  save would check it (the same 422s) and, when valid, when a ticket of each priority created now
  would be due under it; nothing is written, so no ``If-Match``.

Every call needs a manager's bearer token (401 without a valid token, 403 for another role).
A change names the version it was decided on in ``If-Match`` (428 when missing, 400 when not a
version, 409 when the configuration moved on since); an invalid policy or a change the
configuration refuses (a second default, deleting the default, a condition that does not parse)
is a 422 saying why, as is a status name the ticket options do not have (once the SLA service has
read them: :mod:`sla_service.domain.known_statuses`). The changes are ``SlaPolicySaved`` /
``SlaPolicyDeleted`` events on ``helpdesk.sla-policies.v1``, written through
:class:`~helpdesk_platform.config_log.ConfigLog`. The rules are the service layer's
(:class:`sla_service.service_layer.configuration.SlaConfiguration`); this module parses, calls
and maps its errors, for the calendars API as well (:mod:`sla_service.entrypoints.calendars_api`).
The OpenAPI paths are in :mod:`sla_service.entrypoints.config_docs`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from faust.web import Request, Response, View

from helpdesk_platform.auth import Principal, TokenVerifier
from helpdesk_platform.config_http import HttpRefusal, etag, expected_version, require_role
from sla_service.service_layer.configuration import (
    ConfigConflict,
    InUseError,
    Invalid,
    NotFound,
    NotReady,
    NotWritten,
    SlaConfiguration,
)

_ACTION = "read or change SLA policies"

#: What a call can be refused with; :func:`refused` says how.
REFUSALS = (HttpRefusal, NotReady, NotFound, Invalid, InUseError, ConfigConflict, NotWritten)


class PoliciesApi:
    """The handlers, and the rules of every call to the configuration APIs."""

    def __init__(self, configuration: SlaConfiguration, jwt_public_key_file: Path) -> None:
        self.configuration = configuration
        self.jwt_public_key_file = jwt_public_key_file
        self._verifier: TokenVerifier | None = None

    # --- rules of every call --------------------------------------------------------------------

    def manager(self, request: Request) -> Principal:
        if self._verifier is None:
            try:
                self._verifier = TokenVerifier.from_file(self.jwt_public_key_file)
            except FileNotFoundError as error:
                raise HttpRefusal(503, str(error)) from None
        return require_role(self._verifier, request.headers.get("Authorization"), action=_ACTION)

    def reader(self, request: Request) -> None:
        """A manager, once the configuration is read."""
        self.manager(request)
        self.configuration.require_ready()

    def writer(self, request: Request, read_from: str) -> tuple[Principal, int]:
        """A manager and the version its change was decided on (``If-Match``)."""
        principal = self.manager(request)
        self.configuration.require_ready()
        return principal, expected_version(request.headers.get("If-Match"), read_from=read_from)

    # --- handlers -------------------------------------------------------------------------------

    def list(self, web: View, request: Request) -> Response:
        try:
            self.reader(request)
            return answered(web, self.configuration.policies())
        except REFUSALS as error:
            return refused(web, error)

    def get(self, web: View, request: Request, policy_id: str) -> Response:
        try:
            self.reader(request)
            return answered(web, self.configuration.policy(policy_id))
        except REFUSALS as error:
            return refused(web, error)

    async def put(self, web: View, request: Request, policy_id: str) -> Response:
        try:
            principal, expected = self.writer(request, "GET /policies")
            body = await json_object(request, "the body must be a JSON policy")
            saved = await self.configuration.save_policy(policy_id, body, expected, principal)
            return answered(web, saved)
        except REFUSALS as error:
            return refused(web, error)

    async def preview(self, web: View, request: Request, policy_id: str) -> Response:
        try:
            self.reader(request)
            body = await json_object(request, "the body must be a JSON policy")
            return web.json(self.configuration.preview_policy(policy_id, body))
        except REFUSALS as error:
            return refused(web, error)

    async def delete(self, web: View, request: Request, policy_id: str) -> Response:
        try:
            principal, expected = self.writer(request, "GET /policies")
            return answered(
                web, await self.configuration.delete_policy(policy_id, expected, principal)
            )
        except REFUSALS as error:
            return refused(web, error)

    def add_pages(self, app: Any) -> None:
        api = self

        @app.page("/policies")
        class PoliciesPage(View):
            async def get(self, request: Request) -> Response:
                return api.list(self, request)

        @app.page("/policies/{policy_id}")
        class PolicyPage(View):
            async def get(self, request: Request, policy_id: str) -> Response:
                return api.get(self, request, policy_id)

            async def put(self, request: Request, policy_id: str) -> Response:
                return await api.put(self, request, policy_id)

            async def delete(self, request: Request, policy_id: str) -> Response:
                return await api.delete(self, request, policy_id)

        @app.page("/policies/{policy_id}/preview")
        class PolicyPreviewPage(View):
            async def post(self, request: Request, policy_id: str) -> Response:
                return await api.preview(self, request, policy_id)


def answered(web: View, document: dict[str, Any]) -> Response:
    """The document, with its ``version`` as ``ETag``."""
    response = web.json(document)
    response.headers["ETag"] = etag(document["version"])
    return response


def refused(web: View, error: Exception) -> Response:
    """The one mapping of the configuration APIs' refusals to statuses."""
    body: dict[str, Any] = {"detail": str(error)}
    if isinstance(error, HttpRefusal):
        status, body["detail"] = error.status, error.detail
    elif isinstance(error, InUseError):  # before Invalid: both are ValueErrors
        status, body["used_by"] = 409, list(error.users)
    elif isinstance(error, ConfigConflict):
        status = 409
    elif isinstance(error, NotFound):
        status = 404
    elif isinstance(error, NotReady | NotWritten):
        status = 503
    else:
        status = 422
    return web.json(body, status=status)


async def json_object(request: Request, detail: str) -> dict[str, Any]:
    """The request's JSON object body (422 ``detail`` when it is not JSON)."""
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise HttpRefusal(422, detail) from None
    if not isinstance(body, dict):
        raise HttpRefusal(422, "the body must be a JSON object")
    return body
