"""HTTP rules shared by the services' APIs (the ticket service's routers, the SLA policies, the
assignment rules, the mail accounts); no web framework.

Versioned records and configurations carry their version as a strong ``ETag`` (:func:`etag`,
:func:`record_headers`) and are changed optimistically with ``If-Match``, read by the one
parser :func:`if_match_version`:

* ``"3"``, ``W/"3"`` or ``3`` names version 3; anything else is a 400;
* where the API requires a version (the configuration APIs: ``required=True``), a missing
  header is a 428 and ``*`` a 400, since a change must say which version it was decided on;
* where it is optional (the ticket service's records), a missing header or ``*`` ("whatever
  version is current", RFC 9110) means the change applies to the record as it is.

The configuration APIs change a :class:`~helpdesk_platform.config_log.ConfigLog` and are for
managers only:

* :func:`require_role` verifies the bearer token: 401 without a valid one, 403 for another role;
  :class:`BearerAuth` loads the public key when first needed (503 while it is missing) and
  checks a caller, a member of staff or a role;
* :func:`expected_version` reads ``If-Match`` - the version the change was decided on, the
  ``ETag`` of the read (:func:`etag`): 428 when it is missing, 400 when it is not a version.

Both raise :class:`HttpRefusal` with the status and a message for the response body; the
handler turns it into its framework's response.
"""

from __future__ import annotations

import re
from pathlib import Path

from helpdesk_platform.auth import AuthenticationError, Principal, Role, TokenVerifier

__all__ = [
    "BearerAuth",
    "HttpRefusal",
    "etag",
    "expected_version",
    "if_match_version",
    "record_headers",
    "require_role",
]

_VERSION = re.compile(r"^[0-9]{1,18}$")


class HttpRefusal(Exception):
    """The request is refused with ``status``; ``detail`` says why."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def etag(version: int) -> str:
    """The ``ETag`` of a configuration at ``version`` (a strong one: ``"3"``)."""
    return f'"{version}"'


def record_headers(version: int, location: str | None = None) -> dict[str, str]:
    """The headers of a versioned record in a response: its ``ETag`` and, for a new one,
    where it lives (``Location``)."""
    headers = {"ETag": etag(version)}
    if location:
        headers["Location"] = location
    return headers


def if_match_version(if_match: str | None, *, required: bool, read_from: str) -> int | None:
    """The version an ``If-Match`` header names (``"3"``, ``W/"3"`` or ``3``); ``None`` when an
    optional header is missing or ``*``.

    ``read_from`` names where the client gets the version (``GET /rules``) for the messages.
    """
    value = (if_match or "").strip()
    if not value or (value == "*" and not required):
        if required:
            raise HttpRefusal(
                428, f"send If-Match with the version you changed (the ETag of {read_from})"
            )
        return None
    version = value.removeprefix("W/").strip('"')
    if not _VERSION.match(version):
        raise HttpRefusal(
            400,
            f'If-Match must be one version, e.g. "3" (the ETag of {read_from}); got {if_match!r}',
        )
    return int(version)


def expected_version(if_match: str | None, *, read_from: str) -> int:
    """The version a required ``If-Match`` names (see :func:`if_match_version`)."""
    version = if_match_version(if_match, required=True, read_from=read_from)
    assert version is not None  # required: a missing one was refused
    return version


def require_role(
    verifier: TokenVerifier, authorization: str | None, *, action: str, role: Role = Role.MANAGER
) -> Principal:
    """The caller, if the ``Authorization`` header carries a valid token of ``role``.

    ``action`` completes the 403 message: "only managers may ``action``".
    """
    try:
        principal = verifier.verify(authorization)
    except AuthenticationError as error:
        raise HttpRefusal(401, str(error)) from None
    if principal.role is not role:
        raise HttpRefusal(403, f"only {role.value}s may {action}")
    return principal


class BearerAuth:
    """The bearer-token rules of a worker's HTTP API, with the public key read on first use (a
    worker starts before ``make up`` has written the dev key pair)."""

    def __init__(self, public_key_file: Path) -> None:
        self.public_key_file = public_key_file
        self._verifier: TokenVerifier | None = None

    def verifier(self) -> TokenVerifier:
        if self._verifier is None:
            try:
                self._verifier = TokenVerifier.from_file(self.public_key_file)
            except FileNotFoundError as error:
                raise HttpRefusal(503, str(error)) from None
        return self._verifier

    def caller(self, authorization: str | None) -> Principal:
        """Anyone with a valid token (401 without one)."""
        try:
            return self.verifier().verify(authorization)
        except AuthenticationError as error:
            raise HttpRefusal(401, str(error)) from None

    def staff(self, authorization: str | None, *, action: str) -> Principal:
        """Agents, technicians and managers (403 for customers)."""
        principal = self.caller(authorization)
        if not principal.is_staff:
            raise HttpRefusal(403, f"only staff may {action}")
        return principal

    def role(
        self, authorization: str | None, *, action: str, role: Role = Role.MANAGER
    ) -> Principal:
        """Callers of ``role`` only (see :func:`require_role`)."""
        return require_role(self.verifier(), authorization, action=action, role=role)
