"""SQL injection through every way text reaches the store: web sign-in and forms, page filters, the API's
paths and bodies, SMPP system_id, message ids and message text.  Nothing may sign in, fail with a server
error, change another row, or be stored other than verbatim."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest_twisted

from smsgw.domain import ids
from smsgw.protocols.smpp34.status import CommandStatus as S
from tests.gateway.wire_client import connect, within
from tests.security.conftest import smpp_client
from tests.web.client import Client
from tests.web.rig import PASSWORDS, csrf_of

PAYLOADS = (
    "' OR '1'='1",
    "acme' --",
    "x'; DROP TABLE accounts; --",
    "1 OR 1=1",
    "\" OR \"\"=\"",
    "'); UPDATE accounts SET balance = 999999999; --",
    "%' UNION SELECT login, password_hash FROM accounts --",
)


def _table_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")]
        return {t: conn.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables}


def _balances(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("select login, balance from accounts"))


@pytest_twisted.ensureDeferred
async def test_sql_in_every_input_is_data(world: Any, tmp_path: Path) -> None:
    rig, port = world
    db = tmp_path / "smsgw.db"
    tables_before, balances_before = _table_counts(db), _balances(db)
    assert "accounts" in tables_before and balances_before["acme"] > 0

    # web sign-in: no payload signs in, none is a server error
    for payload in PAYLOADS:
        web = Client(rig.base)
        form = await web.get("/login")
        for login, password in ((payload, payload), ("acme", payload), (payload, PASSWORDS["acme"])):
            reply = await web.post("/login", {"login": login, "password": password, "csrf": csrf_of(form.text)})
            assert reply.status in (400, 401, 403, 429), (login, reply.status)
            assert 'id="whoami"' not in reply.text  # the sign-in page again, not signed in
            form = reply
        assert (await web.get("/records")).status in (303, 429)  # sent to sign in (or locked out)
    # they counted as failures: this address is locked out now; lift that for the rest of the test
    assert rig.intake.lockout.locked("ip:127.0.0.1", rig.intake.clock.seconds())
    for key in ("ip:127.0.0.1", "id:acme"):
        rig.intake.lockout.unlock(key)

    # signed-in pages: filters and forms
    web = Client(rig.base)
    form = await web.get("/login")
    assert (await web.post("/login", {"login": "acme", "password": PASSWORDS["acme"],
                                      "csrf": csrf_of(form.text)})).status == 303
    token = csrf_of((await web.get("/blacklist")).text)
    for payload in PAYLOADS:
        for path in (f"/records?number={payload}", f"/records?state={payload}", f"/records?account={payload}",
                     f"/records?before={payload}", f"/records/{payload}", f"/ledger?before={payload}",
                     f"/blacklist?after={payload}"):
            page = await web.get(path.replace(" ", "%20").replace("#", "%23"))
            assert page.status in (200, 400, 404), (path, page.status)
        added = await web.post("/blacklist", {"op": "add", "phone": payload, "reason": payload, "csrf": token})
        assert added.status in (200, 303, 400), added.status
        signature = await web.post("/signatures", {"op": "add", "text": f"【{payload}】", "csrf": token})
        assert signature.status in (200, 303, 400), signature.status

    # API: paths and bodies
    key = await rig.issue_key("acme")
    api = Client(rig.base)
    stored: list[tuple[str, str]] = []
    for payload in PAYLOADS:
        got = await api.api("GET", "/api/v1/messages/" + payload.replace(" ", "%20").replace("#", "%23"), key)
        assert got.status in (400, 404), got.status
        sent = await api.api("POST", "/api/v1/messages", key, {"to": "13800138000", "text": payload})
        assert sent.status == 200, sent.text
        stored.append((sent.json()["id"], payload))

    # SMPP: system_id, message ids and text
    for payload in PAYLOADS:
        client = await within(connect(port))
        try:
            bound = await within(client.bind(payload[:15], payload[:8]))
            assert bound.status in (S.ESME_RINVSYSID, S.ESME_RINVPASWD, S.ESME_RBINDFAIL), bound.status
        finally:
            client.abort()
    rig.intake.lockout.unlock("ip:127.0.0.1")  # the binds above counted as failures too
    rival = await smpp_client(port, "rival")
    try:
        for payload in PAYLOADS:
            query = await within(rival.request("query_sm", {"message_id": payload[:64], "source_addr": ""}))
            assert query.status in (S.ESME_RQUERYFAIL, S.ESME_RINVMSGID), query.status
            sent = await within(rival.submit("13800138001", payload.encode(), data_coding=1))  # IA5/ASCII
            assert sent.status == 0
            stored.append((sent.fields["message_id"], payload))
    finally:
        rival.abort()

    # everything stored verbatim, nothing dropped or rewritten
    for message_id, payload in stored:
        message = await rig.store.get_message(ids.from_text(message_id))
        assert message.text == payload
    tables_after, balances_after = _table_counts(db), _balances(db)
    assert set(tables_after) == set(tables_before)
    assert tables_after["accounts"] == tables_before["accounts"]
    assert {k: v for k, v in balances_after.items() if k not in ("acme", "rival")} == \
        {k: v for k, v in balances_before.items() if k not in ("acme", "rival")}
    assert balances_after["acme"] < balances_before["acme"] and balances_after["rival"] < balances_before["rival"]
    assert max(balances_after.values()) < 999999999
