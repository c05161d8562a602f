"""The HTTP API's errors: SMPP command_status names, and the HTTP status each one answers with.

An API error is ``{"code": "ESME_RINVDSTADR", "command_status": 11,
"message": "..."}``: the code is the SMPP 3.4 status an SMPP client would
have got for the same request (table 5-2), so programs that speak both
interfaces handle one set of codes.  Failures of the HTTP request itself map
to the nearest SMPP meaning (an unreadable body is a bad command length, an
unknown field is an optional parameter not allowed, an unknown path is an
invalid command id).
"""

from __future__ import annotations

from typing import Mapping

from smsgw.protocols.smpp34.status import MEANINGS, CommandStatus, status_name
from smsgw.web.http import Response, json_response

S = CommandStatus

#: command_status → HTTP status; anything not listed is 400 (the request was refused as it is)
HTTP_STATUS: Mapping[int, int] = {
    S.ESME_ROK: 200,
    S.ESME_RSUBMITFAIL: 422,
    S.ESME_RTHROTTLED: 429,
    S.ESME_RMSGQFUL: 503,
    S.ESME_RSYSERR: 500,
    S.ESME_RUNKNOWNERR: 500,
    S.ESME_RINVSYSID: 401,
    S.ESME_RINVPASWD: 401,
    S.ESME_RBINDFAIL: 403,
    S.ESME_RQUERYFAIL: 404,
    S.ESME_RINVMSGID: 404,
    S.ESME_RINVCMDID: 404,
}

#: every code the API answers with, for the OpenAPI document
API_CODES = (
    S.ESME_RINVMSGLEN, S.ESME_RINVCMDLEN, S.ESME_RINVCMDID, S.ESME_RINVPRTFLG, S.ESME_RINVREGDLVFLG,
    S.ESME_RSYSERR, S.ESME_RINVSRCADR, S.ESME_RINVDSTADR, S.ESME_RINVMSGID, S.ESME_RBINDFAIL,
    S.ESME_RINVPASWD, S.ESME_RINVSYSID, S.ESME_RMSGQFUL, S.ESME_RINVNUMDESTS, S.ESME_RINVESMCLASS,
    S.ESME_RSUBMITFAIL, S.ESME_RTHROTTLED, S.ESME_RINVSCHED, S.ESME_RINVEXPIRY, S.ESME_RQUERYFAIL,
    S.ESME_ROPTPARNOTALLWD, S.ESME_RINVOPTPARAMVAL, S.ESME_RMISSINGOPTPARAM, S.ESME_RUNKNOWNERR,
)  # fmt: skip


def http_status(command_status: int) -> int:
    return HTTP_STATUS.get(command_status, 400)


def error_body(command_status: int, message: str | None = None) -> dict[str, object]:
    known = MEANINGS.get(CommandStatus(command_status)) if command_status in CommandStatus._value2member_map_ else None
    return {"code": status_name(command_status), "command_status": int(command_status),
            "message": message or known or "error"}  # fmt: skip


def error_response(command_status: int, message: str | None = None, *,
                   headers: Mapping[str, str] | None = None, status: int | None = None) -> Response:
    extra = dict(headers or {})
    if command_status == S.ESME_RTHROTTLED:
        extra.setdefault("Retry-After", "1")
    return json_response(error_body(command_status, message), status or http_status(command_status), extra)


class ApiError(Exception):
    """Raised by request readers: answer with this SMPP status and message."""

    def __init__(self, command_status: int, message: str | None = None, status: int | None = None) -> None:
        super().__init__(message or status_name(command_status))
        self.command_status = int(command_status)
        self.message = message
        self.status = status

    def response(self) -> Response:
        return error_response(self.command_status, self.message, status=self.status)
