"""An enterprise can never read, change or spend another's data, whichever interface it uses.

The web rig's intake also gets a real SMPP listener, so one store is reached
through SMPP, the HTTP API and the web pages at once.  ``acme`` (with
sub-accounts ``acme-a`` and ``acme-b``) and ``rival`` each submit through one
interface and then try each other's messages through the others.
"""

from __future__ import annotations

from typing import Any

import pytest_twisted

from smsgw.domain import ids
from smsgw.domain.model import MessageState
from smsgw.protocols.smpp34.status import CommandStatus as S
from tests.gateway.wire_client import within
from tests.security.conftest import smpp_client as _smpp
from tests.web.client import Client
from tests.web.rig import PASSWORDS, PRICE, csrf_of

async def _balance(rig: Any, login: str) -> int:
    account = await rig.store.get_account(rig.accounts[login].enterprise_id)
    return int(account.balance)


@pytest_twisted.ensureDeferred
async def test_smpp_cannot_touch_a_message_submitted_by_another_enterprise_over_the_api(world: Any) -> None:
    rig, port = world
    key = await rig.issue_key("acme")
    made = await Client(rig.base).api("POST", "/api/v1/messages", key, {"to": "13800138000", "text": "acme only"})
    assert made.status == 200, made.text
    acme_id = made.json()["id"]
    before = await rig.store.get_message(ids.from_text(acme_id))

    rival = await _smpp(port, "rival")
    try:
        query = await within(rival.request("query_sm", {"message_id": acme_id, "source_addr": ""}))
        cancel = await within(rival.request("cancel_sm", {"message_id": acme_id, "source_addr": "",
                                                          "destination_addr": "13800138000"}))
        replace = await within(rival.request("replace_sm", {"message_id": acme_id, "source_addr": "",
                                                            "short_message": b"rival was here"}))
    finally:
        rival.abort()
    assert (query.command, query.status) == ("query_sm_resp", S.ESME_RQUERYFAIL)
    assert "final_date" not in query.fields or not query.fields.get("final_date")
    assert (cancel.command, cancel.status) == ("cancel_sm_resp", S.ESME_RCANCELFAIL)
    assert (replace.command, replace.status) == ("replace_sm_resp", S.ESME_RREPLACEFAIL)
    after = await rig.store.get_message(ids.from_text(acme_id))
    assert (after.text, after.state) == (before.text, before.state) == ("acme only", MessageState.QUEUED)

    # a sub-account cannot cancel its sibling's message either
    sibling = await Client(rig.base).api("POST", "/api/v1/messages", await rig.issue_key("acme-b"),
                                         {"to": "13800138001", "text": "from b"})
    b_id = sibling.json()["id"]
    acme_a = await _smpp(port, "acme-a")
    try:
        cancel = await within(acme_a.request("cancel_sm", {"message_id": b_id, "source_addr": "",
                                                           "destination_addr": "13800138001"}))
    finally:
        acme_a.abort()
    assert cancel.status == S.ESME_RCANCELFAIL
    assert (await rig.store.get_message(ids.from_text(b_id))).state == MessageState.QUEUED


@pytest_twisted.ensureDeferred
async def test_api_and_web_cannot_see_a_message_submitted_by_another_enterprise_over_smpp(world: Any) -> None:
    rig, port = world
    rival = await _smpp(port, "rival")
    try:
        submitted = await within(rival.submit("13800138002", b"rival secret text"))
    finally:
        rival.abort()
    assert submitted.status == 0
    rival_id = submitted.fields["message_id"]

    reply = await Client(rig.base).api("GET", f"/api/v1/messages/{rival_id}", await rig.issue_key("acme"))
    assert reply.status == 404 and "rival secret text" not in reply.text

    web = Client(rig.base)
    form = await web.get("/login")
    signed = await web.post("/login", {"login": "acme", "password": PASSWORDS["acme"], "csrf": csrf_of(form.text)})
    assert signed.status == 303
    rival_account = rig.accounts["rival"].id
    for path in (f"/records/{rival_id}", "/records?number=13800138002", f"/records?account={rival_account}",
                 "/records.csv", f"/records.csv?account={rival_account}"):
        page = await web.get(path)
        assert page.status in (200, 404), (path, page.status)
        assert "rival secret text" not in page.text, path
        if rival_id not in path:  # (a page may echo the query, never show the row)
            assert rival_id not in page.text, path
    # and the page does show acme's own messages the same way (the check above is not vacuous)
    own = await Client(rig.base).api("POST", "/api/v1/messages", await rig.issue_key("acme"),
                                     {"to": "13800138009", "text": "acme visible"})
    assert own.json()["id"] in (await web.get("/records?number=13800138009")).text
    assert (await web.get(f"/records/{own.json()['id']}")).status == 200


@pytest_twisted.ensureDeferred
async def test_each_interface_spends_only_its_own_enterprises_balance(world: Any) -> None:
    rig, port = world
    start = {login: await _balance(rig, login) for login in ("acme", "rival")}
    acme_a = await _smpp(port, "acme-a")
    try:
        assert (await within(acme_a.submit("13800138003", b"a spends acme's"))).status == 0
    finally:
        acme_a.abort()
    made = await Client(rig.base).api("POST", "/api/v1/messages", await rig.issue_key("rival"),
                                      {"to": "13800138004", "text": "rival spends its own"})
    assert made.status == 200
    assert await _balance(rig, "acme") == start["acme"] - PRICE
    assert await _balance(rig, "rival") == start["rival"] - PRICE
    # a rival API key that names acme's account in the body still submits as rival
    spoof = await Client(rig.base).api("POST", "/api/v1/messages", await rig.issue_key("rival"),
                                       {"to": "13800138005", "text": "spoof", "account": "acme",
                                        "account_id": rig.accounts["acme"].id})
    assert await _balance(rig, "acme") == start["acme"] - PRICE
    if spoof.status == 200:
        assert await _balance(rig, "rival") == start["rival"] - 2 * PRICE
        message = await rig.store.get_message(ids.from_text(spoof.json()["id"]))
        assert message.account_id == rig.accounts["rival"].id
