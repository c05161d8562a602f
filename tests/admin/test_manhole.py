"""The telnet manhole of a running gateway, driven over a real telnet connection.

Every test starts the whole ``GatewayService`` (embedded demo config, SQLite in
tmp, built-in carrier simulators), logs in over telnet and types helpers as an
administrator would; it then checks the store changed and that each change
left its row in the audit log.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import attrs
import pytest
import pytest_twisted
import sqlalchemy as sa
from twisted.internet.error import ConnectionDone

from smsgw.app.config import GatewaySection, ManholeSection
from smsgw.domain import ids
from smsgw.domain.coding import Coding, decode
from smsgw.domain.model import YUAN, AccountStatus, HoldReason, LedgerKind, Message, MessageState, Segment
from smsgw.protocols.smpp34.status import CommandStatus
from smsgw.store import queries, schema
from smsgw.store.accounts import authenticate, find_login
from smsgw.store.audit import audit_entries
from smsgw.store.ledger import check_balances
from smsgw.store.passwords import hash_password
from tests.admin.gateway import start_gateway
from tests.admin.smpp import Client
from tests.admin.telnet import ManholeClient, connect
from tests.links.carriers import wait_for

PHONE = "13800138000"


async def audit(gw: Any, action: str, target: str | None = None) -> list[Any]:
    rows = await gw.store.read(audit_entries, 200)
    return [e for e in rows if e.action == action and (target is None or e.target == target)]


async def account(gw: Any, login: str) -> Any:
    found = await gw.store.read(find_login, login)
    assert found is not None, f"no account {login}"
    return found[0]


async def logged_in(gw: Any, user: str = "admin", password: str = "admin") -> ManholeClient:
    admin = await connect(gw.listening.manhole)
    await admin.login(user, password)
    return admin


@pytest_twisted.ensureDeferred
async def test_wrong_credentials_are_refused_and_three_failures_hang_up(tmp_path: Path) -> None:
    gw = await start_gateway(tmp_path)
    try:
        admin = await connect(gw.listening.manhole)
        for user, password in (("admin", "wrong"), ("nobody", "admin")):
            await admin.expect("Username: ")
            admin.send(user)
            await admin.expect("Password: ")
            admin.send(password)
            await admin.expect("Authentication failed")
        await admin.expect("Username: ")
        admin.send("admin")
        await admin.expect("Password: ")
        admin.send("")
        await admin.expect("Authentication failed")
        await admin.close()  # the server hung up after the third failure
        assert ">>> " not in admin.screen()

        ok = await logged_in(gw)  # demo mode: admin / admin
        assert "logged in as admin" in ok.screen()
        await ok.close()
    finally:
        await gw.stopService()


@pytest_twisted.ensureDeferred
async def test_production_users_come_from_the_config_as_hashes(tmp_path: Path) -> None:
    manhole = ManholeSection(port=0, users={"ops": hash_password("s3cret")})
    gw = await start_gateway(tmp_path, manhole=manhole, gateway=GatewaySection(data_dir=str(tmp_path / "data")))
    try:
        assert not gw.config.gateway.demo
        refused = await connect(gw.listening.manhole)
        await refused.expect("Username: ")
        refused.send("admin")
        await refused.expect("Password: ")
        refused.send("admin")  # no demo user outside demo mode
        await refused.expect("Authentication failed")
        await refused.close()
        ops = await logged_in(gw, "ops", "s3cret")
        out = await ops.run("help()", "audit_log")
        for helper in ("create_enterprise", "recharge", "suspend", "reset_password", "verify_signature", "approve",
                       "links", "message", "counters"):
            assert re.search(rf"^\s+{helper}\s+\S", out, re.M), helper
        out = await ops.run("help(recharge)", ">>> ")
        assert "recharge(ref" in out and "prepaid balance" in out
        await ops.close()
    finally:
        await gw.stopService()


@pytest_twisted.ensureDeferred
async def test_enterprise_recharge_balance_ledger_and_suspend_a_bound_client(tmp_path: Path) -> None:
    gw = await start_gateway(tmp_path)
    client = Client(gw.listening.smpp)
    try:
        admin = await logged_in(gw)
        await admin.run("create_enterprise('acme', 'pw1', name='ACME', phone='+8613800138000', binds=2)",
                        "created enterprise acme")
        acme = await account(gw, "acme")
        assert (acme.name, acme.reserved_phone, acme.max_binds) == ("ACME", PHONE, 2)
        assert [e.actor for e in await audit(gw, "account.create", str(acme.id))] == ["manhole:admin"]
        assert not acme.reassemble_mo
        await admin.run("update_account('acme', reassemble_mo=True)", "long MO         reassembled")
        assert (await account(gw, "acme")).reassemble_mo

        out = await admin.run("recharge('acme', 12.5, note='contract 7')", "yuan\n")
        assert "balance 12.50 yuan" in out
        assert (await account(gw, "acme")).balance == 12 * YUAN + YUAN // 2
        [row] = await audit(gw, "balance.recharge", str(acme.id))
        assert row.detail["amount"] == 1_250_000 and row.actor == "manhole:admin"

        out = await admin.run("balance('acme')", "yuan")
        assert "acme: balance 12.50 yuan" in out
        out = await admin.run("ledger('acme')", "contract 7")
        assert "recharge" in out and "12.50" in out

        out = await admin.run("add_signature('acme', '【阿克米】')", "pending")
        signature_id = int(re.search(r"signature (\d+)", out).group(1))  # type: ignore[union-attr]
        await admin.run(f"verify_signature({signature_id})", "verified")  # no unsigned messages without one
        assert await client.bind("acme", "pw1") == 0
        resp = await client.submit("8613912345678", "hello")
        assert resp.status == 0
        closed = client.until_closed()
        out = await admin.run("suspend('acme', 'unpaid invoice')", "unbound")
        assert "acme is now suspended; 1 bound client(s) unbound" in out
        assert "unbind" in await closed  # told to unbind, then the connection ended
        assert (await account(gw, "acme")).status is AccountStatus.SUSPENDED
        [row] = await audit(gw, "account.status", str(acme.id))
        assert row.detail["status"] == "suspended" and row.detail["reason"] == "unpaid invoice"

        again = Client(gw.listening.smpp)
        try:
            assert await again.bind("acme", "pw1") == CommandStatus.ESME_RBINDFAIL
        finally:
            again.close()
        with gw.opened.engine.connect() as conn:
            assert check_balances(conn) == []
        await admin.close()
    finally:
        client.close()
        await gw.stopService()


@pytest_twisted.ensureDeferred
async def test_signature_blacklist_keyword_and_price(tmp_path: Path) -> None:
    gw = await start_gateway(tmp_path)
    try:
        admin = await logged_in(gw)
        await admin.run("create_enterprise('acme', 'pw1')", "created")
        acme = await account(gw, "acme")
        out = await admin.run("add_signature('acme', '【阿克米】')", "pending")
        signature_id = int(re.search(r"signature (\d+)", out).group(1))  # type: ignore[union-attr]
        out = await admin.run("signatures()", "【阿克米】")
        out = await admin.run(f"verify_signature({signature_id})", "verified")
        s = schema.signatures
        with gw.opened.engine.connect() as conn:
            row = conn.execute(sa.select(s).where(s.c.id == signature_id)).one()
        assert (row.status, row.decided_by) == ("verified", "manhole:admin")
        assert await audit(gw, "signature.decide", str(signature_id))

        await admin.run("blacklist('13900001111', reason='complaint')", "added to the global blacklist")
        out = await admin.run("is_blacklisted('13900001111')", "blacklisted")
        assert "is blacklisted" in out
        await admin.run("blacklist('13900002222', enterprise='acme')", f"blacklist of enterprise {acme.id}")
        assert [e.detail["scope_id"] for e in await audit(gw, "blacklist.add")] == [acme.id, 0]
        await admin.run("unblacklist('13900001111')", "removed from")
        assert await audit(gw, "blacklist.remove", "13900001111")

        await admin.run("add_keyword('review', '贷款')", "added to keyword list review")
        out = await admin.run("keywords('review')", "贷款")
        assert await audit(gw, "keyword.add", "贷款")

        await admin.run("set_price('acme', 0.035, carrier='cmcc')", "per segment to cmcc")
        out = await admin.run("price('acme', 'cmcc')", "segment")
        assert "0.035 yuan" in out
        [row] = await audit(gw, "price.set", str(acme.id))
        assert row.detail == {"carrier": "cmcc", "price": 3_500}

        out = await admin.run("recharge('acme', 'lots')", "'lots'")
        assert "error: not an amount of yuan: 'lots'" in out
        await admin.close()
    finally:
        await gw.stopService()


@pytest_twisted.ensureDeferred
async def test_review_approve_then_message_lookup(tmp_path: Path) -> None:
    gw = await start_gateway(tmp_path)
    try:
        demo = await account(gw, "demo")
        now = gw.now_ms()
        held = Message(id=gw.ids.next(), account_id=demo.id, enterprise_id=demo.id, source_addr="1065",
                       dest_addr="13912345678", created_at=now, expires_at=now + 3_600_000, parts=1,
                       text="review me", carrier="cmcc", state=MessageState.HELD, hold_reason=HoldReason.REVIEW,
                       reason="keyword 贷款", charge=4000)
        await gw.store.accept(held, (Segment(1, b"review me"),))
        admin = await logged_in(gw)
        hex_id = ids.to_text(held.id)
        out = await admin.run("reviews()", "review me")
        assert hex_id in out and "keyword" in out

        out = await admin.run(f"approve('{hex_id}', note='fine')", "is now queued")
        [row] = await audit(gw, "review.approved", str(held.id))
        assert row.actor == "manhole:admin" and row.detail == {"note": "fine"}
        # approved: it goes out to the simulator and its receipt comes back
        await wait_for(lambda: gw.carrier_events.counters["reports"] >= 1, 15, "the report of the approved message")
        message = await gw.store.get_message(held.id)
        assert message.state is not MessageState.HELD

        out = await admin.run(f"message('{hex_id}')", "attempts")
        assert f"message {hex_id}" in out and "held -> queued (fine)" in out and "link cmcc-sim" in out
        out = await admin.run("messages_to('13912345678')", "review me")
        assert hex_id in out
        out = await admin.run(f"reject('{hex_id}')", "not waiting for review")
        assert f"error: message {held.id} is not waiting for review" in out
        await admin.close()
    finally:
        await gw.stopService()


@pytest_twisted.ensureDeferred
async def test_links_status_suspend_resume_and_counters(tmp_path: Path) -> None:
    gw = await start_gateway(tmp_path)
    try:
        await wait_for(lambda: gw.groups["cmcc-sim"].state.up, 10, "the CMPP link")
        admin = await logged_in(gw)
        out = await admin.run("links()", "ctcc-sim")
        assert re.search(r"^cmcc-sim\s+cmpp30\s+up\s+2\b", out, re.M), out

        await admin.run("suspend_link('cmcc-sim', 'carrier maintenance')", "suspended")
        assert gw.groups["cmcc-sim"].state.suspended
        [row] = await audit(gw, "link.suspend", "cmcc-sim")
        assert row.detail == {"reason": "carrier maintenance"} and row.actor == "manhole:admin"
        out = await admin.run("links()", "ctcc-sim")
        assert re.search(r"^cmcc-sim\s+cmpp30\s+suspended", out, re.M)

        await admin.run("resume_link('cmcc-sim')", "resumed")
        assert not gw.groups["cmcc-sim"].state.suspended
        assert await audit(gw, "link.resume", "cmcc-sim")
        out = await admin.run("counters()", "link ctcc-sim")
        assert "dispatcher: sent=" in out and "store: pending=" in out
        out = await admin.run("suspend_link('nowhere')", "(links:")
        assert "error: no link 'nowhere'" in out

        out = await admin.run("audit_log()", "link.resume")
        assert "manhole:admin" in out
        await admin.close()
    finally:
        await gw.stopService()


@pytest_twisted.ensureDeferred
async def test_reset_password_sends_the_new_one_to_the_reserved_phone(tmp_path: Path) -> None:
    gw = await start_gateway(tmp_path)
    try:
        admin = await logged_in(gw)
        await admin.run("create_enterprise('acme', 'old-password', phone='13800138000')", "created")
        await admin.run("create_enterprise('nophone', 'pw')", "created")
        out = await admin.run("reset_password('nophone')", "has no reserved phone")
        assert "error: nophone has no reserved phone" in out

        out = await admin.run("reset_password('acme')", "(message ")
        assert "sent to 138****8000" in out
        acme = await account(gw, "acme")
        [row] = await audit(gw, "account.password_reset", str(acme.id))
        notice_id = ids.from_text(row.detail["notice"])
        notice = await gw.store.get_message(notice_id)
        assert (notice.dest_addr, notice.account_id, notice.charge) == (PHONE, acme.id, 0)
        [segment] = await gw.store.read(queries.get_segments, notice_id)
        text = decode(segment.segment.payload, Coding.UCS2)
        password = re.search(r"临时密码为 (\S+)，", text).group(1)  # type: ignore[union-attr]
        assert password not in admin.screen()  # told to the phone, never to the administrator
        with gw.opened.engine.connect() as conn:
            assert authenticate(conn, "acme", password, None).ok
            assert not authenticate(conn, "acme", "old-password", None).ok
        # the notice goes out like any message: to the China Mobile simulator
        await wait_for(lambda: gw.dispatcher.counters["submitted"] >= 1, 10, "the notice to be submitted")
        ledger = schema.ledger
        with gw.opened.engine.connect() as conn:
            charges = conn.execute(sa.select(ledger).where(ledger.c.message_id == notice_id,
                                                           ledger.c.kind == LedgerKind.CHARGE.value)).all()
        assert charges == []
        await admin.close()
    finally:
        await gw.stopService()


def test_every_helper_is_documented() -> None:
    from smsgw.admin.helpers import AdminContext, Helpers

    context = AdminContext(store=None, clock=None, ids=None, plan=None, hash_password=None)  # type: ignore[arg-type]
    helpers = Helpers(context, "manhole:test")
    namespace = helpers.namespace()
    assert len(namespace) >= 30
    for name, fn in namespace.items():
        assert (fn.__doc__ or "").strip(), f"{name} has no docstring"
    assert attrs.has(AdminContext)


@pytest_twisted.ensureDeferred
async def test_the_same_manhole_over_ssh(tmp_path: Path) -> None:
    from twisted.conch.ssh import keys

    from tests.admin.sshclient import ssh_connect

    key_file = tmp_path / "keys" / "manhole_host_key"
    gw = await start_gateway(tmp_path, manhole=ManholeSection(port=0, ssh=True, ssh_port=0,
                                                              ssh_host_key=str(key_file)))
    try:
        assert gw.listening.manhole_ssh and gw.listening.manhole
        assert f"ssh -p {gw.listening.manhole_ssh}" in gw.banner()
        assert oct(key_file.stat().st_mode & 0o777) == "0o600"
        with pytest.raises(ConnectionDone):  # the password is refused: no shell, the client gives up
            await ssh_connect(gw.listening.manhole_ssh, "admin", "wrong")
        admin, screen = await ssh_connect(gw.listening.manhole_ssh, "admin", "admin")
        assert screen.host_key == keys.Key.fromFile(str(key_file)).public().blob()
        await admin.expect("logged in as admin")
        await admin.run("create_enterprise('viassh', 'pw1')", "created enterprise viassh")
        acc = await account(gw, "viassh")
        [row] = await audit(gw, "account.create", str(acc.id))
        assert row.actor == "manhole:admin"
        await admin.close()
    finally:
        await gw.stopService()


@pytest_twisted.ensureDeferred
async def test_lockouts_are_listed_and_lifted(tmp_path: Path) -> None:
    gw = await start_gateway(tmp_path)
    try:
        admin = await logged_in(gw)
        assert "no login or address is locked out" in await admin.run("lockouts()", "locked out")
        for _ in range(gw.intake.lockout.rules.limit):  # wrong passwords over SMPP lock the login out
            refused = await Client(gw.listening.smpp).bind("demo", "wrong")
            assert refused != CommandStatus.ESME_ROK
        assert await Client(gw.listening.smpp).bind("demo", "demo") != CommandStatus.ESME_ROK
        out = await admin.run("lockouts()", "s left")
        assert re.search(r"^login demo\s+\d+ s left", out, re.M), out
        assert "login demo unlocked" in await admin.run("unlock('demo')", "unlocked")
        assert await audit(gw, "lockout.unlock", "id:demo")
        if gw.intake.lockout.locked("ip:127.0.0.1", gw.reactor.seconds()):
            await admin.run("unlock('ip:127.0.0.1')", "unlocked")
        assert await Client(gw.listening.smpp).bind("demo", "demo") == CommandStatus.ESME_ROK
        assert "was not locked out" in await admin.run("unlock('nobody')", "locked out")
        await admin.close()
    finally:
        await gw.stopService()
