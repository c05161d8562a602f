"""The HTTP API over loopback: submissions take the SMPP path, errors carry SMPP codes, pulls and acks."""

from __future__ import annotations

import time
from typing import Any

import pytest_twisted

from smsgw.domain import ids
from smsgw.domain.model import MessageState, OutboxKind, Report
from smsgw.pipeline.storage import StoreClient
from smsgw.store import web_queries
from tests.web.client import Client
from tests.web.rig import PRICE


async def _wait_state(store: StoreClient, message_id: int, state: MessageState, timeout: float = 10) -> Any:
    from twisted.internet import reactor

    from smsgw.web.http import sleep

    end = time.time() + timeout
    while time.time() < end:
        msg = await store.get_message(message_id)
        if msg is not None and msg.state is state:
            return msg
        await sleep(reactor, 0.05)
    raise AssertionError(f"message {message_id} did not reach {state}")


@pytest_twisted.ensureDeferred
async def test_submit_stores_charges_and_answers_with_our_id(rig: Any) -> None:
    key = await rig.issue_key("acme")
    client = Client(rig.base)
    before = (await rig.store.get_account(rig.accounts["acme"].id)).balance
    reply = await client.api("POST", "/api/v1/messages", key, {"to": "+8613800138000", "text": "您的验证码是 1234"})
    assert reply.status == 200, reply.text
    body = reply.json()
    assert body["code"] == "ESME_ROK" and body["command_status"] == 0
    message = await rig.store.get_message(ids.from_text(body["id"]))
    assert message is not None
    assert (message.dest_addr, message.text, message.state, message.carrier) == (
        "13800138000", "您的验证码是 1234", MessageState.QUEUED, "cmcc")
    assert message.registered_delivery == 1 and message.charge == PRICE
    after = (await rig.store.get_account(rig.accounts["acme"].id)).balance
    assert before - after == PRICE


@pytest_twisted.ensureDeferred
async def test_long_text_is_split_and_priced_per_segment(rig: Any) -> None:
    key = await rig.issue_key("acme")
    reply = await Client(rig.base).api("POST", "/api/v1/messages", key, {"to": "13300133000", "text": "长" * 71})
    message = await rig.store.get_message(ids.from_text(reply.json()["id"]))
    assert (message.parts, message.charge, message.carrier) == (2, 2 * PRICE, "ctcc")


@pytest_twisted.ensureDeferred
async def test_errors_are_json_with_smpp_codes(rig: Any) -> None:
    key = await rig.issue_key("acme")
    client = Client(rig.base)
    cases = [
        ({"to": "12345", "text": "hi"}, 400, "ESME_RINVDSTADR"),
        ({"to": "13800138000"}, 400, "ESME_RINVMSGLEN"),
        ({"to": "13800138000", "text": "hi", "colour": "red"}, 400, "ESME_ROPTPARNOTALLWD"),
        ({"to": "13800138000", "text": "hi", "priority": 7}, 400, "ESME_RINVPRTFLG"),
        ({"to": "13800138000", "text": "hi", "receipt": "yes"}, 400, "ESME_RINVREGDLVFLG"),
        ({"to": "13800138000", "text": "hi", "from": "abc"}, 400, "ESME_RINVSRCADR"),
        ({"to": "13800138000", "text": "hi", "schedule_at": "tomorrow"}, 400, "ESME_RINVSCHED"),
        ({"to": "13800138000", "text": "hi", "valid_until": "2020-01-01T00:00:00Z"}, 400, "ESME_RINVEXPIRY"),
        ({"to": 13800138000, "text": "hi"}, 400, "ESME_RINVDSTADR"),
    ]
    for payload, status, code in cases:
        reply = await client.api("POST", "/api/v1/messages", key, payload)
        assert (reply.status, reply.json()["code"]) == (status, code), payload
        assert reply.headers["content-type"].startswith("application/json")
        assert set(reply.json()) == {"code", "command_status", "message"}
    bad_json = await client.api("POST", "/api/v1/messages", key, raw=b"{not json")
    assert (bad_json.status, bad_json.json()["code"]) == (400, "ESME_RINVCMDLEN")
    no_key = await client.api("GET", "/api/v1/balance", None)
    assert (no_key.status, no_key.json()["code"]) == (401, "ESME_RINVSYSID")
    assert "Bearer" in no_key.headers["www-authenticate"]
    wrong_key = await client.api("GET", "/api/v1/balance", key[:-2] + "xx")
    assert (wrong_key.status, wrong_key.json()["code"]) == (401, "ESME_RINVPASWD")
    nowhere = await client.api("GET", "/api/v1/nothing", key)
    assert (nowhere.status, nowhere.json()["code"]) == (404, "ESME_RINVCMDID")
    wrong_method = await client.api("DELETE", "/api/v1/balance", key)
    assert (wrong_method.status, wrong_method.json()["code"]) == (405, "ESME_RINVCMDID")


@pytest_twisted.ensureDeferred
async def test_insufficient_balance_is_refused_as_an_smpp_client_would_be(rig: Any) -> None:
    key = await rig.issue_key("acme-a")
    # the sub-account's own quota: one segment's worth, then nothing
    from smsgw.store.accounts import UpdateAccount

    await rig.store.run(UpdateAccount(rig.accounts["acme-a"].id, 1, "test", (("quota_left", PRICE),)))
    client = Client(rig.base)
    first = await client.api("POST", "/api/v1/messages", key, {"to": "13800138000", "text": "one"})
    second = await client.api("POST", "/api/v1/messages", key, {"to": "13800138001", "text": "two"})
    assert first.status == 200
    assert (second.status, second.json()["code"], second.json()["command_status"]) == (422, "ESME_RSUBMITFAIL", 0x45)


@pytest_twisted.ensureDeferred
async def test_batch_gives_a_result_per_message_in_order(rig: Any) -> None:
    key = await rig.issue_key("acme")
    future = "2099-01-01T00:00:00Z"
    messages = [{"to": "13800138000", "text": "a"}, {"to": "999", "text": "b"}, {"to": "15400154000", "text": "c"},
                {"to": "18900189000", "text": "d", "receipt": False},
                {"to": "18900189000", "text": "e", "schedule_at": future}]
    reply = await Client(rig.base).api("POST", "/api/v1/messages/batch", key, {"messages": messages})
    assert reply.status == 200
    body = reply.json()
    assert (body["accepted"], body["rejected"]) == (2, 3)
    codes = [(r["index"], r["to"], r["code"]) for r in body["results"]]
    assert codes == [(0, "13800138000", "ESME_ROK"), (1, "999", "ESME_RINVDSTADR"),
                     (2, "15400154000", "ESME_RINVDSTADR"),  # mobile-shaped, but 154 is not allocated
                     (3, "18900189000", "ESME_ROK"), (4, "18900189000", "ESME_RINVSCHED")]
    malformed = await Client(rig.base).api("POST", "/api/v1/messages/batch", key,
                                           {"messages": [{"to": "13800138000", "text": "a"}, {"to": "18600186000"}]})
    assert (malformed.status, malformed.json()["code"]) == (400, "ESME_RINVMSGLEN")
    assert malformed.json()["message"].startswith("messages[1]:")
    last = await rig.store.get_message(ids.from_text(body["results"][3]["id"]))
    assert (last.carrier, last.registered_delivery) == ("ctcc", 0)
    empty = await Client(rig.base).api("POST", "/api/v1/messages/batch", key, {"messages": []})
    assert (empty.status, empty.json()["code"]) == (400, "ESME_RINVNUMDESTS")


@pytest_twisted.ensureDeferred
async def test_batch_waits_out_the_tps_limit_instead_of_failing(tmp_path: Any) -> None:
    from tests.web.rig import make_web_rig

    rig = await make_web_rig(tmp_path, tps=5)
    try:
        key = await rig.issue_key("acme")
        messages = [{"to": f"1380013{i:04d}", "text": f"m{i}"} for i in range(12)]
        started = time.monotonic()
        reply = await Client(rig.base).api("POST", "/api/v1/messages/batch", key, {"messages": messages})
        took = time.monotonic() - started
        assert reply.json()["accepted"] == 12
        assert 1.0 <= took < 8.0  # 5 at once, then 5 a second later, then the rest
        # a single submission is not paced: the sixth within a second is told to come back
        replies = [await Client(rig.base).api("POST", "/api/v1/messages", key, {"to": "13800138000", "text": "x"})
                   for _ in range(6)]
        throttled = [r for r in replies if r.status == 429]
        assert throttled, [r.status for r in replies]
        assert (throttled[0].json()["code"], throttled[0].headers["retry-after"]) == ("ESME_RTHROTTLED", "1")
    finally:
        await rig.close()


@pytest_twisted.ensureDeferred
async def test_status_balance_receipts_and_mo_pull(rig: Any) -> None:
    key = await rig.issue_key("acme")
    client = Client(rig.base)
    sent = await client.api("POST", "/api/v1/messages", key, {"to": "13800138000", "text": "hello"})
    mid = ids.from_text(sent.json()["id"])
    # the dispatcher's and carrier's part, done on the store as they do it
    claimed = await rig.store.claim_due(int(time.time() * 1000) + 1000)
    assert [c.message_id for c in claimed] == [mid]
    now = int(time.time() * 1000)
    await rig.store.submitted(mid, 1, "cmcc", "CM-1", now, "cmcc-1")
    await rig.store.report(Report("cmcc", "CM-1", MessageState.DELIVERED, "DELIVRD", now + 5, done_at=now + 4))

    status = await client.api("GET", f"/api/v1/messages/{ids.to_text(mid)}", key)
    body = status.json()
    assert (body["state"], body["parts"], body["charge_millifen"]) == ("delivered", 1, PRICE)
    assert [h["to_state"] for h in body["history"]][:2] == ["accepted", "queued"]
    assert body["history"][-1]["to_state"] == "delivered"
    assert [(r["stat"], r["state"]) for r in body["receipts"]] == [("DELIVRD", "delivered")]

    balance = (await client.api("GET", "/api/v1/balance", key)).json()
    assert balance["balance_millifen"] == 1000 * 100_000 - PRICE and balance["balance_yuan"] == "999.96"

    pulled = (await client.api("GET", "/api/v1/receipts", key)).json()["items"]
    assert [(i["message_id"], i["state"], i["stat"], i["to"]) for i in pulled] == [
        (ids.to_text(mid), "delivered", "DELIVRD", "13800138000")]
    again = (await client.api("GET", "/api/v1/receipts", key)).json()["items"]
    assert again == pulled  # a pull does not take them
    acked = await client.api("POST", "/api/v1/receipts/ack", key, {"ids": [pulled[0]["pull_id"]]})
    assert acked.json() == {"acknowledged": 1}
    assert (await client.api("GET", "/api/v1/receipts", key)).json()["items"] == []

    from smsgw.domain.model import MoMessage

    await rig.store.record_mo(MoMessage(rig.intake.ids.next(), "cmcc", "13800138000", "10690008001",
                                        "退订".encode("utf-16-be"), now, data_coding=8,
                                        account_id=rig.accounts["acme"].id))
    mo = (await client.api("GET", "/api/v1/mo", key)).json()["items"]
    assert [(m["from"], m["to"], m["text"]) for m in mo] == [("13800138000", "10690008001", "退订")]
    assert (await client.api("POST", "/api/v1/mo/ack", key, {"ids": [mo[0]["pull_id"]]})).json() == {"acknowledged": 1}
    left = await rig.store.read(web_queries.outbox_pending, rig.accounts["acme"].id, OutboxKind.MO.value)
    assert left == []


@pytest_twisted.ensureDeferred
async def test_openapi_document_is_served_without_a_key(rig: Any) -> None:
    reply = await Client(rig.base).get("/api/openapi.json")
    assert reply.status == 200
    doc = reply.json()
    assert doc["openapi"].startswith("3.")
    assert set(doc["paths"]) == {"/api/v1/messages", "/api/v1/messages/batch", "/api/v1/messages/{message_id}",
                                 "/api/v1/balance", "/api/v1/receipts", "/api/v1/receipts/ack", "/api/v1/mo",
                                 "/api/v1/mo/ack"}


@pytest_twisted.ensureDeferred
async def test_revoked_key_stops_working_at_once(rig: Any) -> None:
    from smsgw.store import api_keys

    key = await rig.issue_key("acme")
    client = Client(rig.base)
    assert (await client.api("GET", "/api/v1/balance", key)).status == 200
    key_id = api_keys.split_key(key)[0]
    assert await rig.store.run(api_keys.RevokeApiKey(rig.accounts["acme"].id, key_id, 1, "test"))
    rig.root.deps.keys.forget(key_id)
    assert (await client.api("GET", "/api/v1/balance", key)).status == 401
