"""The OpenAPI 3.0 document of the HTTP API, served at ``/api/openapi.json``.

Kept beside the handlers (``api``) and checked against them by the
property-based tests (schemathesis drives every operation from this
document and validates each answer against it).
"""

from __future__ import annotations

from typing import Any

from smsgw.domain.model import MessageState
from smsgw.protocols.smpp34.status import status_name
from smsgw.web.codes import API_CODES, http_status

VERSION = "1.0.0"

_STATES = [state.value for state in MessageState]
_TIME = {"type": "string", "format": "date-time"}
_NTIME = {"type": "string", "format": "date-time", "nullable": True}
_NSTR = {"type": "string", "nullable": True}
_ID = {"type": "string", "pattern": "^[0-9a-f]{1,16}$", "description": "our message id (hexadecimal)"}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _ok(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def _errors(*statuses: int) -> dict[str, Any]:
    names = {
        400: "the request was refused as it is (code says why)", 401: "no API key, or an unknown or revoked one",
        403: "the account is suspended", 404: "no such message of this account", 405: "method not allowed",
        413: "request body too large", 422: "refused by the gateway (balance, quota, policy)",
        429: "the account's rate limit: try again after Retry-After seconds",
        500: "internal error", 503: "the gateway's queue is full: try again later",
    }  # fmt: skip
    return {str(status): _error(names[status]) for status in statuses}


_AUTH_ERRORS = (401, 403)
_BODY_ERRORS = (400, 413)


def document() -> dict[str, Any]:
    message_props: dict[str, Any] = {
        "to": {"type": "string", "pattern": "^(\\+?86)?1[3-9][0-9]{9}$",
               "description": "mainland mobile number: 11 digits, +86 / 86 prefix allowed; a prefix the numbering "
                              "plan does not allocate is refused (ESME_RINVDSTADR)", "example": "13800138000"},
        "text": {"type": "string", "minLength": 1, "maxLength": 1000,
                 "description": "the text, signature included (【签名】); long texts are split into segments"},
        "from": {"type": "string", "pattern": "^[0-9]{0,20}$",
                 "description": "digits appended to the service number and the account's extension"},
        "receipt": {"type": "boolean", "default": True, "description": "ask for a delivery receipt"},
        "priority": {"type": "integer", "minimum": 0, "maximum": 3, "default": 0},
        "schedule_at": {**_TIME, "description": "not before this time (at most 31 days ahead)"},
        "valid_until": {**_TIME, "description": "expire if not delivered by then (default: 48 hours after "
                                                "acceptance, or after schedule_at; at most 33 days ahead)"},
    }  # fmt: skip
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object", "required": ["code", "command_status", "message"], "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "description": "SMPP 3.4 command_status name",
                         "example": "ESME_RINVDSTADR"},
                "command_status": {"type": "integer", "minimum": 0},
                "message": {"type": "string"},
            },
        },
        "Message": {"type": "object", "required": ["to", "text"], "additionalProperties": False,
                    "properties": message_props},
        "BatchMessage": {
            "type": "object", "required": ["to", "text"], "additionalProperties": False,
            "description": "a Message whose number is checked by the gateway: a bad one refuses this message "
                           "alone (its result says why); a malformed message refuses the whole batch",
            "properties": {**message_props, "to": {"type": "string", "minLength": 1, "maxLength": 24,
                                                   "description": message_props["to"]["description"]}},
        },
        "Batch": {"type": "object", "required": ["messages"], "additionalProperties": False,
                  "properties": {"messages": {"type": "array", "minItems": 1, "maxItems": 1000,
                                              "items": {"$ref": "#/components/schemas/BatchMessage"}}}},
        "Accepted": {
            "type": "object", "required": ["id", "code", "command_status"], "additionalProperties": False,
            "properties": {"id": _ID, "code": {"type": "string", "enum": ["ESME_ROK"]},
                           "command_status": {"type": "integer", "enum": [0]}},
        },
        "BatchResult": {
            "type": "object", "required": ["accepted", "rejected", "results"], "additionalProperties": False,
            "properties": {
                "accepted": {"type": "integer", "minimum": 0}, "rejected": {"type": "integer", "minimum": 0},
                "results": {"type": "array", "items": {
                    "type": "object", "required": ["index", "to", "id", "code", "command_status"],
                    "additionalProperties": False,
                    "properties": {"index": {"type": "integer", "minimum": 0}, "to": _NSTR,
                                   "id": {**_ID, "nullable": True}, "code": {"type": "string"},
                                   "command_status": {"type": "integer"}, "message": {"type": "string"}},
                }},
            },
        },
        "MessageStatus": {
            "type": "object", "additionalProperties": False,
            "required": ["id", "to", "from", "text", "state", "parts", "charge_millifen", "carrier", "reason",
                         "created_at", "scheduled_at", "expires_at", "final_at", "history", "receipts"],
            "properties": {
                "id": _ID, "to": {"type": "string"}, "from": {"type": "string"}, "text": _NSTR,
                "state": {"type": "string", "enum": _STATES}, "parts": {"type": "integer", "minimum": 1},
                "charge_millifen": {"type": "integer", "description": "1 yuan = 100000 milli-fen"},
                "carrier": _NSTR, "reason": _NSTR, "created_at": _TIME, "scheduled_at": _NTIME,
                "expires_at": _TIME, "final_at": _NTIME,
                "history": {"type": "array", "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["at", "from_state", "to_state", "part", "reason"],
                    "properties": {"at": _TIME, "from_state": {"type": "string", "enum": _STATES, "nullable": True},
                                   "to_state": {"type": "string", "enum": _STATES},
                                   "part": {"type": "integer", "description": "0: the whole message"},
                                   "reason": _NSTR},
                }},
                "receipts": {"type": "array", "items": {
                    "type": "object", "additionalProperties": False,
                    "required": ["part", "state", "stat", "err", "done_at", "received_at"],
                    "properties": {"part": {"type": "integer", "nullable": True},
                                   "state": {"type": "string", "enum": _STATES}, "stat": {"type": "string"},
                                   "err": _NSTR, "done_at": _NTIME, "received_at": _TIME},
                }},
            },
        },
        "Balance": {
            "type": "object", "additionalProperties": False,
            "required": ["account", "balance_millifen", "balance_yuan", "credit_limit_millifen",
                         "quota_left_millifen"],
            "properties": {"account": {"type": "string"}, "balance_millifen": {"type": "integer"},
                           "balance_yuan": {"type": "string", "example": "1,234.56"},
                           "credit_limit_millifen": {"type": "integer"},
                           "quota_left_millifen": {"type": "integer", "nullable": True,
                                                   "description": "a sub-account's own limit; null: none"}},
        },
        "Receipts": {
            "type": "object", "required": ["items"], "additionalProperties": False,
            "properties": {"items": {"type": "array", "items": {
                "type": "object", "additionalProperties": False,
                "required": ["pull_id", "message_id", "to", "state", "stat", "err", "parts", "submitted_at",
                             "done_at"],
                "properties": {"pull_id": {"type": "integer"}, "message_id": _ID, "to": {"type": "string"},
                               "state": {"type": "string", "enum": _STATES, "nullable": True}, "stat": _NSTR,
                               "err": _NSTR, "parts": {"type": "integer", "nullable": True},
                               "submitted_at": _NTIME, "done_at": _NTIME},
            }}},
        },
        "MoMessages": {
            "type": "object", "required": ["items"], "additionalProperties": False,
            "properties": {"items": {"type": "array", "items": {
                "type": "object", "additionalProperties": False,
                "required": ["pull_id", "mo_id", "from", "to", "text", "received_at"],
                "properties": {"pull_id": {"type": "integer"}, "mo_id": _ID, "from": {"type": "string"},
                               "to": {"type": "string"}, "text": {"type": "string"}, "received_at": _TIME},
            }}},
        },
        "Ack": {"type": "object", "required": ["ids"], "additionalProperties": False,
                "properties": {"ids": {"type": "array", "maxItems": 1000,
                                       "items": {"type": "integer", "minimum": 0, "maximum": 9223372036854775807}}}},
        "Acknowledged": {"type": "object", "required": ["acknowledged"], "additionalProperties": False,
                         "properties": {"acknowledged": {"type": "integer", "minimum": 0}}},
    }  # fmt: skip
    limit = {"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}
    security: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKey": []}]

    def op(summary: str, responses: dict[str, Any], body: str | None = None, **extra: Any) -> dict[str, Any]:
        spec: dict[str, Any] = {"summary": summary, "security": security, "responses": responses, **extra}
        if body is not None:
            spec["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}}}
        return spec

    pull_errors = _errors(400, *_AUTH_ERRORS)
    ack_errors = _errors(*_BODY_ERRORS, *_AUTH_ERRORS)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "smsgw HTTP API", "version": VERSION,
            "description": "Send SMS to the Chinese carriers and read their receipts. Errors carry the SMPP 3.4 "
                           "command_status an SMPP client would get: "
                           + ", ".join(f"{status_name(c)} (HTTP {http_status(c)})" for c in API_CODES) + ".",
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer smsgw_..."},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
            "schemas": schemas,
        },
        "paths": {
            "/api/v1/messages": {"post": op(
                "Submit one message", {"200": _ok("Accepted", "accepted (stored durably) with its id"),
                                       **_errors(*_BODY_ERRORS, *_AUTH_ERRORS, 422, 429, 503)},
                "Message", operationId="submit")},
            "/api/v1/messages/batch": {"post": op(
                "Submit up to 1000 messages; one result per message",
                {"200": _ok("BatchResult", "a result per message, in order"), **_errors(*_BODY_ERRORS, *_AUTH_ERRORS)},
                "Batch", operationId="submitBatch")},
            "/api/v1/messages/{message_id}": {"get": op(
                "A message's state, history and receipts",
                {"200": _ok("MessageStatus", "the message"), **_errors(*_AUTH_ERRORS, 404)},
                operationId="messageStatus",
                parameters=[{"name": "message_id", "in": "path", "required": True, "schema": _ID}])},
            "/api/v1/balance": {"get": op("The enterprise's balance", {"200": _ok("Balance", "balance"),
                                                                          **_errors(*_AUTH_ERRORS)},
                                          operationId="balance")},
            "/api/v1/receipts": {"get": op(
                "Receipts waiting for this account (oldest first; they stay until acknowledged)",
                {"200": _ok("Receipts", "receipts"), **pull_errors}, operationId="pullReceipts", parameters=[limit])},
            "/api/v1/receipts/ack": {"post": op(
                "Acknowledge pulled receipts by pull_id", {"200": _ok("Acknowledged", "how many were removed"),
                                                           **ack_errors}, "Ack", operationId="ackReceipts")},
            "/api/v1/mo": {"get": op(
                "Replies (MO) waiting for this account (oldest first; they stay until acknowledged)",
                {"200": _ok("MoMessages", "MO messages"), **pull_errors}, operationId="pullMo", parameters=[limit])},
            "/api/v1/mo/ack": {"post": op(
                "Acknowledge pulled MO messages by pull_id", {"200": _ok("Acknowledged", "how many were removed"),
                                                              **ack_errors}, "Ack", operationId="ackMo")},
        },
    }
