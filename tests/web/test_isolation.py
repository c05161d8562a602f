"""Isolation: a sub-account sees only what it owns; an enterprise never sees another's data.

Every account of the rig sends a message and gets a receipt and a reply;
then each one looks at everything, through the pages and the API.
"""

from __future__ import annotations

import csv
import io
import re
import time
from typing import Any

import pytest_twisted

from smsgw.domain import ids
from smsgw.domain.model import MessageState, MoMessage, OutboxKind, Report
from smsgw.store import web_queries
from tests.web.client import Client
from tests.web.rig import PASSWORDS, csrf_of

OWNERS = ("acme", "acme-a", "acme-b", "rival")
#: what each account may see: an enterprise sees its sub-accounts, a sub-account itself
SEES = {"acme": {"acme", "acme-a", "acme-b"}, "acme-a": {"acme-a"}, "acme-b": {"acme-b"}, "rival": {"rival"}}


async def seed(rig: Any) -> dict[str, Any]:
    """A delivered message, its receipt and an MO reply for every account; their ids and API keys."""
    world: dict[str, Any] = {"keys": {}, "messages": {}, "mo": {}}
    now = int(time.time() * 1000)
    for n, login in enumerate(OWNERS):
        key = await rig.issue_key(login)
        world["keys"][login] = key
        reply = await Client(rig.base).api("POST", "/api/v1/messages", key,
                                           {"to": f"1380013800{n}", "text": f"secret of {login}"})
        world["messages"][login] = ids.from_text(reply.json()["id"])
    for index, seg in enumerate(await rig.store.claim_due(now + 1000)):
        await rig.store.submitted(seg.message_id, 1, "cmcc", f"X{index}", now)
        await rig.store.report(Report("cmcc", f"X{index}", MessageState.DELIVERED, "DELIVRD", now))
    for n, login in enumerate(OWNERS):
        mo_id = rig.intake.ids.next()
        await rig.store.record_mo(MoMessage(mo_id, "cmcc", f"1390013900{n}", "1069000" + (rig.accounts[login].extension
                                            or ""), f"reply to {login}".encode(), now,
                                            account_id=rig.accounts[login].id))
        world["mo"][login] = mo_id
    return world


async def signed_in(rig: Any, login: str) -> Client:
    client = Client(rig.base)
    form = await client.get("/login")
    reply = await client.post("/login", {"login": login, "password": PASSWORDS[login], "csrf": csrf_of(form.text)})
    assert reply.location == "/"
    return client


def owners_in(html: str) -> set[str]:
    """Whose message texts and replies a page shows."""
    return {a or b for a, b in re.findall(r"secret of ([a-z-]+)|reply to ([a-z-]+)", html)}


@pytest_twisted.ensureDeferred
async def test_pages_show_each_account_only_its_own(rig: Any) -> None:
    world = await seed(rig)
    for login in OWNERS:
        client = await signed_in(rig, login)
        allowed = SEES[login]
        for path in ("/", "/records", "/inbox"):
            page = await client.get(path)
            assert page.status == 200
            assert owners_in(page.text) == allowed, (login, path)
        receipts = await client.get("/receipts")
        shown = {int(mid, 16) for mid in re.findall(r'<tr data-id="([0-9a-f]+)">', receipts.text)}
        assert shown == {world["messages"][o] for o in allowed}, login
        export = await client.get("/records.csv")
        rows = list(csv.reader(io.StringIO(export.body.decode("utf-8-sig"))))[1:]
        assert {row[4].removeprefix("secret of ") for row in rows} == allowed, login
        for owner, message_id in world["messages"].items():
            detail = await client.get(f"/records/{ids.to_text(message_id)}")
            assert detail.status == (200 if owner in allowed else 404), (login, owner)
            if owner not in allowed:
                assert f"secret of {owner}" not in detail.text
        # naming someone else's account in the filter finds nothing, not their rows
        for owner in OWNERS:
            filtered = await client.get(f"/records?account={rig.accounts[owner].id}")
            assert owners_in(filtered.text) <= allowed & {owner}, (login, owner)


@pytest_twisted.ensureDeferred
async def test_sub_accounts_cannot_use_the_enterprises_pages(rig: Any) -> None:
    client = await signed_in(rig, "acme-a")
    page = await client.get("/")
    for path in ("/accounts", "/blacklist"):
        assert (await client.get(path)).status == 403
    posted = await client.post("/accounts", {"csrf": csrf_of(page.text), "login": "sneaky", "password": "123456"})
    assert posted.status == 403
    sibling = rig.accounts["acme-b"].id
    changed = await client.post(f"/accounts/{sibling}/password", {"csrf": csrf_of(page.text), "password": "hijack1"})
    assert changed.status == 403
    assert (await rig.store.authenticate("acme-b", PASSWORDS["acme-b"], None)).ok
    assert "accounts" not in re.findall(r'<nav>(.*?)</nav>', page.text, re.S)[0]


@pytest_twisted.ensureDeferred
async def test_ledger_of_a_sub_account_holds_only_its_own_rows(rig: Any) -> None:
    world = await seed(rig)
    client = await signed_in(rig, "acme-a")
    ledger = await client.get("/ledger")
    linked = {int(mid, 16) for mid in re.findall(r'href="/records/([0-9a-f]+)"', ledger.text)}
    assert linked == {world["messages"]["acme-a"]}
    assert "充值" not in ledger.text  # the enterprise's recharges are not the sub-account's rows
    enterprise = await (await signed_in(rig, "acme")).get("/ledger")
    linked = {int(mid, 16) for mid in re.findall(r'href="/records/([0-9a-f]+)"', enterprise.text)}
    assert linked == {world["messages"][o] for o in ("acme", "acme-a", "acme-b")}


@pytest_twisted.ensureDeferred
async def test_api_keys_see_only_their_scope(rig: Any) -> None:
    world = await seed(rig)
    client = Client(rig.base)
    for login in OWNERS:
        key = world["keys"][login]
        for owner, message_id in world["messages"].items():
            reply = await client.api("GET", f"/api/v1/messages/{ids.to_text(message_id)}", key)
            expected = 200 if owner in SEES[login] else 404
            assert reply.status == expected, (login, owner)
            if expected == 404:
                assert reply.json()["code"] == "ESME_RQUERYFAIL" and "secret" not in reply.text
        # pulls are the account's own outbox (as a bound SMPP receiver gets them)
        receipts = (await client.api("GET", "/api/v1/receipts", key)).json()["items"]
        assert [ids.from_text(i["message_id"]) for i in receipts] == [world["messages"][login]]
        mo = (await client.api("GET", "/api/v1/mo", key)).json()["items"]
        assert [m["text"] for m in mo] == [f"reply to {login}"]
    # acknowledging someone else's pull ids removes nothing
    theirs = await rig.store.read(web_queries.outbox_pending, rig.accounts["rival"].id, OutboxKind.REPORT.value)
    acked = await client.api("POST", "/api/v1/receipts/ack", world["keys"]["acme"], {"ids": [theirs[0].id]})
    assert acked.json() == {"acknowledged": 0}
    still = await rig.store.read(web_queries.outbox_pending, rig.accounts["rival"].id, OutboxKind.REPORT.value)
    assert [i.id for i in still] == [theirs[0].id]
    # a sub-account's balance call shows the enterprise balance it spends from, under its own name
    balance = (await client.api("GET", "/api/v1/balance", world["keys"]["acme-a"])).json()
    assert balance["account"] == "acme-a"
    rival_balance = (await client.api("GET", "/api/v1/balance", world["keys"]["rival"])).json()
    assert rival_balance["balance_millifen"] != balance["balance_millifen"]
