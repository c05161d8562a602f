"""The HTTP API (JSON) for software that does not speak SMPP.

    POST /api/v1/messages            submit one message
    POST /api/v1/messages/batch      submit up to 1000, a result per message
    GET  /api/v1/messages/{id}       state, history and receipts of a message
    GET  /api/v1/balance             the enterprise's balance (and the account's quota)
    GET  /api/v1/receipts            pull receipts waiting for this account
    POST /api/v1/receipts/ack        ... and acknowledge them
    GET  /api/v1/mo                  pull replies (MO) waiting for this account
    POST /api/v1/mo/ack              ... and acknowledge them
    GET  /api/openapi.json           the OpenAPI 3 document (no key needed)

A call carries an API key (``Authorization: Bearer smsgw_…`` or ``X-API-Key``),
issued in the web centre's settings.  Submissions go through the SMPP intake
(``sending.Sender``), so an API client is charged, routed and refused exactly
as an SMPP client is, and errors carry the SMPP status (``codes``).

Receipts and MO wait in the account's outbox, as they do for an SMPP
receiver; a pull reads them without taking them, an ack deletes them.  An
account that is also bound over SMPP as a receiver gets each item on one
interface or, at worst, on both (delivery is at least once either way).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any, Callable, Mapping

from smsgw.domain import ids
from smsgw.domain.model import DEFAULT_VALIDITY_MS, Account, AccountStatus, OutboxKind
from smsgw.protocols.smpp34.status import CommandStatus as S
from smsgw.store import api_keys, queries, web_queries
from smsgw.web import openapi
from smsgw.web.codes import ApiError, error_body, error_response, http_status
from smsgw.web.http import BodyTooLarge, Response, Route, WebRequest, json_response
from smsgw.web.sending import MAX_SCHEDULE_MS, MAX_TEXT, Outgoing, Sender, Sent
from smsgw.web.texts import iso, mo_text, parse_iso, yuan

MAX_BATCH = 1000
MAX_PULL = 1000

#: field → (JSON type, the status a bad value answers with)
MESSAGE_FIELDS: Mapping[str, tuple[type, int]] = {
    "to": (str, S.ESME_RINVDSTADR),
    "text": (str, S.ESME_RINVMSGLEN),
    "from": (str, S.ESME_RINVSRCADR),
    "receipt": (bool, S.ESME_RINVREGDLVFLG),
    "priority": (int, S.ESME_RINVPRTFLG),
    "schedule_at": (str, S.ESME_RINVSCHED),
    "valid_until": (str, S.ESME_RINVEXPIRY),
}


class KeyCache:
    """Accounts by API key for ``ttl`` seconds, so a busy client costs no read per call.

    Revoking through the web centre forgets the key at once; a key revoked
    elsewhere (another node) stops working within ``ttl``."""

    def __init__(self, store: Any, clock: Callable[[], float], ttl: float = 10.0, size: int = 10_000) -> None:
        self.store = store
        self.clock = clock
        self.ttl = ttl
        self.size = size
        self._entries: OrderedDict[str, tuple[float, Account | None]] = OrderedDict()

    async def account(self, token: str) -> Account | None:
        now = self.clock()
        hit = self._entries.get(token)
        if hit is not None and hit[0] > now:
            return hit[1]
        account = await self.store.read(api_keys.account_for_key, token)
        self._entries[token] = (now + self.ttl, account)
        self._entries.move_to_end(token)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return account

    def forget(self, key_id: str) -> None:
        for token in [t for t in self._entries if api_keys.split_key(t) and api_keys.split_key(t)[0] == key_id]:  # type: ignore[index]
            del self._entries[token]


def read_json(web: WebRequest) -> Any:
    import json

    try:
        body = web.body()
    except BodyTooLarge:
        raise ApiError(S.ESME_RINVCMDLEN, "request body too large", status=413) from None
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ApiError(S.ESME_RINVCMDLEN, "the body is not a JSON document") from None


def check_shape(item: Any) -> None:
    """What the OpenAPI schema says of a message: JSON types, required and unknown fields, lengths,
    ``from`` digits, ``priority`` range, RFC 3339 times.  A violation is the client's mistake."""
    if not isinstance(item, dict):
        raise ApiError(S.ESME_RINVCMDLEN, "a message is a JSON object")
    unknown = sorted(set(item) - set(MESSAGE_FIELDS))
    if unknown:
        raise ApiError(S.ESME_ROPTPARNOTALLWD, f"unknown field {unknown[0]!r}")
    for name, (kind, status) in MESSAGE_FIELDS.items():
        if name in item and (type(item[name]) is not kind):
            raise ApiError(status, f"{name} must be a {'string' if kind is str else kind.__name__}")
    if "to" not in item or not 1 <= len(item["to"]) <= 24:
        raise ApiError(S.ESME_RINVDSTADR, "to: the destination number is required (1-24 characters)")
    if "text" not in item or not 1 <= len(item["text"]) <= MAX_TEXT:
        raise ApiError(S.ESME_RINVMSGLEN, f"text: 1 to {MAX_TEXT} characters")
    source = item.get("from", "")
    if len(source) > 20 or not (source.isascii() and (source.isdigit() or source == "")):
        raise ApiError(S.ESME_RINVSRCADR, "from: up to 20 digits, appended to the service number")
    if not 0 <= item.get("priority", 0) <= 3:
        raise ApiError(S.ESME_RINVPRTFLG, "priority: 0 to 3")
    for name, status in (("schedule_at", S.ESME_RINVSCHED), ("valid_until", S.ESME_RINVEXPIRY)):
        if name in item:
            try:
                parse_iso(item[name])
            except (ValueError, OverflowError):
                raise ApiError(status, f"{name}: an RFC 3339 date-time with a time zone") from None


def read_outgoing(item: Any, now_ms: int) -> Outgoing:
    """One message of a request: its shape (``check_shape``), then the limits of times."""
    check_shape(item)
    schedule = _time(item, "schedule_at", S.ESME_RINVSCHED)
    validity = _time(item, "valid_until", S.ESME_RINVEXPIRY)
    if validity is not None and validity <= now_ms:
        raise ApiError(S.ESME_RINVEXPIRY, "valid_until is already past")
    if schedule is not None and schedule > now_ms + MAX_SCHEDULE_MS:
        raise ApiError(S.ESME_RINVSCHED, "schedule_at is at most 31 days ahead")
    if validity is not None and validity > now_ms + MAX_SCHEDULE_MS + DEFAULT_VALIDITY_MS:
        raise ApiError(S.ESME_RINVEXPIRY, "valid_until is at most 33 days ahead")
    if schedule is not None and validity is not None and schedule >= validity:
        raise ApiError(S.ESME_RINVSCHED, "schedule_at is after valid_until")
    return Outgoing(item["to"], item["text"], item.get("from", ""), item.get("receipt", True),
                    item.get("priority", 0), schedule, validity)


def _time(item: dict[str, Any], name: str, status: int) -> int | None:
    if name not in item:
        return None
    ms = parse_iso(item[name])
    if not 0 <= ms < 4_102_444_800_000:  # before 2100: SMPP times have two-digit years
        raise ApiError(status, f"{name}: out of range")
    return ms


def read_ids(body: Any) -> tuple[int, ...]:
    if not isinstance(body, dict) or set(body) != {"ids"} or not isinstance(body["ids"], list):
        raise ApiError(S.ESME_RINVCMDLEN, 'the body is {"ids": [pull ids]}')
    found = body["ids"]
    if len(found) > MAX_PULL or any(type(i) is not int or not 0 <= i < 2**63 for i in found):
        raise ApiError(S.ESME_RINVOPTPARAMVAL, f"ids: up to {MAX_PULL} non-negative integers")
    return tuple(found)


def _limit(web: WebRequest, default: int = 100) -> int:
    raw = web.arg("limit", str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PULL:
        raise ApiError(S.ESME_RINVOPTPARAMVAL, f"limit: 1 to {MAX_PULL}")
    return int(raw)


def sent_json(index: int, to: str, sent: Sent) -> dict[str, Any]:
    if sent.ok:
        return {"index": index, "to": to, "id": sent.message_id, "code": "ESME_ROK", "command_status": 0}
    return {"index": index, "to": to, "id": None, **error_body(sent.status)}


class Api:
    def __init__(self, store: Any, sender: Sender, keys: KeyCache, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.sender = sender
        self.keys = keys
        self.clock = clock

    def routes(self) -> list[Route]:
        routes: list[tuple[str, tuple[str, ...], Any, str]] = [
            ("/api/openapi.json", ("GET",), self.document, "public"),
            ("/api/v1/messages", ("POST",), self.submit, "key"),
            ("/api/v1/messages/batch", ("POST",), self.submit_batch, "key"),
            ("/api/v1/messages/<message_id>", ("GET",), self.status, "key"),
            ("/api/v1/balance", ("GET",), self.balance, "key"),
            ("/api/v1/receipts", ("GET",), self.receipts, "key"),
            ("/api/v1/receipts/ack", ("POST",), self.receipts_ack, "key"),
            ("/api/v1/mo", ("GET",), self.mo, "key"),
            ("/api/v1/mo/ack", ("POST",), self.mo_ack, "key"),
        ]
        return [Route(rule, methods, handler, access) for rule, methods, handler, access in routes]

    # ------------------------------------------------------------------ the router's callbacks

    async def guard(self, route: Route, web: WebRequest) -> Response | None:
        if route.access != "key":
            return None
        token = _token(web)
        if token is None:
            return error_response(S.ESME_RINVSYSID, "an API key is required (Authorization: Bearer <key>)",
                                  headers={"WWW-Authenticate": 'Bearer realm="smsgw"'})
        account = await self.keys.account(token)
        if account is None:
            return error_response(S.ESME_RINVPASWD, "unknown or revoked API key",
                                  headers={"WWW-Authenticate": 'Bearer realm="smsgw", error="invalid_token"'})
        if account.status is not AccountStatus.ACTIVE:
            return error_response(S.ESME_RBINDFAIL, f"account {account.login} is {account.status.value}")
        web.state["account"] = account
        return None

    @staticmethod
    def not_found(web: WebRequest) -> Response:
        return error_response(S.ESME_RINVCMDID, f"no API operation at {web.path}")

    @staticmethod
    def not_allowed(web: WebRequest, allowed: list[str]) -> Response:
        return error_response(S.ESME_RINVCMDID, f"{web.method} is not an operation of {web.path}", status=405,
                              headers={"Allow": ", ".join(allowed)})

    @staticmethod
    def failed(web: WebRequest) -> Response:
        return error_response(S.ESME_RSYSERR, "internal error")

    # ------------------------------------------------------------------ operations

    async def document(self, web: WebRequest) -> Response:
        return json_response(openapi.document(), headers={"Cache-Control": "public, max-age=300"})

    async def submit(self, web: WebRequest) -> Response:
        account: Account = web.state["account"]
        try:
            out = read_outgoing(read_json(web), self._now_ms())
        except ApiError as error:
            return error.response()
        sent = await self.sender.one(account, out)
        if not sent.ok:
            return error_response(sent.status)
        return json_response({"id": sent.message_id, "code": "ESME_ROK", "command_status": 0}, 200)

    async def submit_batch(self, web: WebRequest) -> Response:
        account: Account = web.state["account"]
        try:
            body = read_json(web)
            if not isinstance(body, dict) or set(body) != {"messages"} or not isinstance(body["messages"], list):
                raise ApiError(S.ESME_RINVCMDLEN, 'the body is {"messages": [...]}')
            items = body["messages"]
            if not 1 <= len(items) <= MAX_BATCH:
                raise ApiError(S.ESME_RINVNUMDESTS, f"a batch holds 1 to {MAX_BATCH} messages")
            for index, item in enumerate(items):
                try:
                    check_shape(item)
                except ApiError as error:  # a malformed message refuses the batch; a refused one only itself
                    raise ApiError(error.command_status, f"messages[{index}]: {error.message}") from None
        except ApiError as error:
            return error.response()
        now = self._now_ms()
        results: list[dict[str, Any] | None] = [None] * len(items)
        good: list[tuple[int, Outgoing]] = []
        for index, item in enumerate(items):
            try:
                good.append((index, read_outgoing(item, now)))
            except ApiError as error:
                to = item.get("to") if isinstance(item, dict) and isinstance(item.get("to"), str) else None
                results[index] = {"index": index, "to": to, "id": None,
                                  **error_body(error.command_status, error.message)}
        sent = await self.sender.many(account, [out for _, out in good], max_wait=10.0)
        for (index, out), outcome in zip(good, sent):
            results[index] = sent_json(index, out.dest_addr, outcome)
        accepted = sum(1 for r in results if r is not None and r["code"] == "ESME_ROK")
        return json_response({"accepted": accepted, "rejected": len(items) - accepted, "results": results})

    async def status(self, web: WebRequest, message_id: str) -> Response:
        account: Account = web.state["account"]
        try:
            mid = ids.from_text(message_id)
        except ValueError:
            return error_response(S.ESME_RINVMSGID, "not a message id")
        scope = await self.store.read(web_queries.scope_ids, account)
        message = await self.store.read(web_queries.message_in_scope, scope, mid)
        if message is None:
            return error_response(S.ESME_RQUERYFAIL, "no such message of this account")
        history = await self.store.read(queries.history, mid)
        receipts = await self.store.read(web_queries.receipts_of, mid)
        return json_response({
            "id": message_id, "to": message.dest_addr, "from": message.source_addr, "text": message.text,
            "state": message.state.value, "parts": message.parts, "charge_millifen": message.charge,
            "carrier": message.carrier, "reason": message.reason, "created_at": iso(message.created_at),
            "scheduled_at": iso(message.due_at) if message.due_at and message.due_at > message.created_at else None,
            "expires_at": iso(message.expires_at), "final_at": iso(message.final_at),
            "history": [{"at": iso(ev.at), "from_state": ev.from_state.value if ev.from_state else None,
                         "to_state": ev.to_state.value, "part": ev.seq, "reason": ev.reason} for ev in history],
            "receipts": [{"part": rc.seq, "state": rc.state.value, "stat": rc.stat, "err": rc.err,
                          "done_at": iso(rc.done_at), "received_at": iso(rc.received_at)} for rc in receipts],
        })  # fmt: skip

    async def balance(self, web: WebRequest) -> Response:
        account: Account = web.state["account"]
        # read now: the key cache's copy of the account is up to ``ttl`` seconds old
        fresh = await self.store.get_account(account.id)
        enterprise = fresh if account.is_enterprise else await self.store.get_account(account.enterprise_id)
        assert enterprise is not None and fresh is not None
        return json_response({
            "account": account.login, "balance_millifen": enterprise.balance, "balance_yuan": yuan(enterprise.balance),
            "credit_limit_millifen": enterprise.credit_limit, "quota_left_millifen": fresh.quota_left,
        })  # fmt: skip

    async def receipts(self, web: WebRequest) -> Response:
        account: Account = web.state["account"]
        try:
            limit = _limit(web)
        except ApiError as error:
            return error.response()
        items = await self.store.read(web_queries.outbox_pending, account.id, OutboxKind.REPORT.value, limit)
        return json_response({"items": [{
            "pull_id": item.id, "message_id": ids.to_text(item.ref_id), "to": item.source_addr,
            "state": item.state.value if item.state else None, "stat": item.stat, "err": item.err,
            "parts": item.parts, "submitted_at": iso(item.submit_at), "done_at": iso(item.done_at),
        } for item in items]})  # fmt: skip

    async def mo(self, web: WebRequest) -> Response:
        account: Account = web.state["account"]
        try:
            limit = _limit(web)
        except ApiError as error:
            return error.response()
        items = await self.store.read(web_queries.outbox_pending, account.id, OutboxKind.MO.value, limit)
        return json_response({"items": [{
            "pull_id": item.id, "mo_id": ids.to_text(item.ref_id), "from": item.source_addr, "to": item.dest_addr,
            "text": mo_text(item.content or b"", item.data_coding, item.esm_class),
            "received_at": iso(item.created_at),
        } for item in items]})  # fmt: skip

    async def receipts_ack(self, web: WebRequest) -> Response:
        return await self._ack(web, OutboxKind.REPORT)

    async def mo_ack(self, web: WebRequest) -> Response:
        return await self._ack(web, OutboxKind.MO)

    async def _ack(self, web: WebRequest, kind: OutboxKind) -> Response:
        account: Account = web.state["account"]
        try:
            item_ids = read_ids(read_json(web))
        except ApiError as error:
            return error.response()
        gone = await self.store.run(web_queries.AckOwnOutbox(account.id, kind.value, item_ids)) if item_ids else 0
        return json_response({"acknowledged": gone})

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)


def _token(web: WebRequest) -> str | None:
    header = web.header("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    key = web.header("x-api-key")
    return key.strip() if key and key.strip() else None


__all__ = ["Api", "KeyCache", "http_status"]
