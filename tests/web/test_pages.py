"""The web centre's pages over loopback: sign-in, CSRF, lockout, sending, records, management, admin."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest_twisted

from smsgw.domain import ids
from smsgw.domain.model import AccountStatus, HoldReason, MessageState, SignatureStatus
from smsgw.policy.lockout import Lockout, LockoutRules
from smsgw.store import lists, web_queries
from tests.web.client import Client
from tests.web.rig import PASSWORDS, PRICE, csrf_of, make_web_rig


async def signed_in(rig: Any, login: str) -> Client:
    client = Client(rig.base)
    form = await client.get("/login")
    reply = await client.post("/login", {"login": login, "password": PASSWORDS[login], "csrf": csrf_of(form.text)})
    assert (reply.status, reply.location) == (303, "/"), reply.text
    return client


async def token(client: Client, path: str = "/") -> str:
    return csrf_of((await client.get(path)).text)


@pytest_twisted.ensureDeferred
async def test_sign_in_sets_a_strict_cookie_and_rotates_the_session(rig: Any) -> None:
    client = Client(rig.base)
    first = await client.get("/")
    assert (first.status, first.location) == (303, "/login?next=%2F")
    form = await client.get("/login")
    assert form.status == 200 and "登录企业中心" in form.text  # Chinese by default
    anonymous = client.cookie("smsgw_session")
    cookie_header = first.headers.get("set-cookie", "")
    reply = await client.post("/login", {"login": "acme", "password": "acme-pass", "csrf": csrf_of(form.text),
                                         "next": "/records"})
    assert (reply.status, reply.location) == (303, "/records")
    set_cookie = reply.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie.replace("Lax", "lax")
    assert client.cookie("smsgw_session") not in (None, anonymous)  # no fixation
    assert "smsgw_session" in cookie_header
    dashboard = await client.get("/")
    assert dashboard.status == 200 and 'id="whoami">acme' in dashboard.text
    assert "default-src 'self'" in dashboard.headers["content-security-policy"]
    assert dashboard.headers["x-frame-options"] == "DENY"
    out = await client.post("/logout", {"csrf": csrf_of(dashboard.text)})
    assert out.location == "/login"
    assert (await client.get("/")).status == 303


@pytest_twisted.ensureDeferred
async def test_wrong_password_and_open_redirects_are_refused(rig: Any) -> None:
    client = Client(rig.base)
    form = await client.get("/login")
    bad = await client.post("/login", {"login": "acme", "password": "nope", "csrf": csrf_of(form.text)})
    assert bad.status == 401 and 'id="login-error"' in bad.text
    good = await client.post("/login", {"login": "acme", "password": "acme-pass", "csrf": csrf_of(bad.text),
                                        "next": "//evil.example/"})
    assert good.location == "/"


@pytest_twisted.ensureDeferred
async def test_posts_without_the_csrf_token_or_from_another_origin_are_refused(rig: Any) -> None:
    client = await signed_in(rig, "acme")
    page = await client.get("/blacklist")
    no_token = await client.post("/blacklist", {"op": "add", "phone": "13800138000"})
    wrong = await client.post("/blacklist", {"op": "add", "phone": "13800138000", "csrf": "x" * 43})
    foreign = await client.post("/blacklist", {"op": "add", "phone": "13800138000", "csrf": csrf_of(page.text)},
                                headers={"Origin": "http://evil.example"})
    assert [no_token.status, wrong.status, foreign.status] == [403, 403, 403]
    assert await rig.store.read(web_queries.blacklist_page, rig.accounts["acme"].id) == []
    same = await client.post("/blacklist", {"op": "add", "phone": "13800138000", "csrf": csrf_of(page.text)},
                             headers={"Origin": rig.base})
    assert same.status == 303
    assert [r.phone for r in await rig.store.read(web_queries.blacklist_page, rig.accounts["acme"].id)] == [
        "13800138000"]
    login_page = await Client(rig.base).post("/login", {"login": "acme", "password": "acme-pass"})
    assert login_page.status == 403  # the sign-in form has a token too


@pytest_twisted.ensureDeferred
async def test_repeated_failures_lock_the_login_out(tmp_path: Any) -> None:
    rig = await make_web_rig(tmp_path, lockout=Lockout(LockoutRules(limit=3, window=60, lock_for=600)))
    try:
        client = Client(rig.base)
        page = await client.get("/login")
        statuses = []
        for _ in range(3):
            reply = await client.post("/login", {"login": "acme", "password": "wrong", "csrf": csrf_of(page.text)})
            statuses.append(reply.status)
            page = reply
        right = await client.post("/login", {"login": "acme", "password": "acme-pass", "csrf": csrf_of(page.text)})
        assert statuses == [401, 401, 401]
        assert right.status == 429 and "登录失败次数过多" in right.text
        # the same lockout guards the SMPP binds
        assert rig.intake.lockout.locked("id:acme", rig.intake.clock.seconds())
    finally:
        await rig.close()


@pytest_twisted.ensureDeferred
async def test_language_switch_to_english_and_back(rig: Any) -> None:
    client = await signed_in(rig, "acme")
    switched = await client.get("/lang/en?next=/send")
    assert switched.location == "/send"
    page = await client.get("/send")
    assert "Send messages" in page.text and 'lang="en"' in page.text
    await client.get("/lang/zh?next=/")
    assert "发送短信" in (await client.get("/send")).text


@pytest_twisted.ensureDeferred
async def test_send_a_pasted_batch_with_per_row_results(rig: Any) -> None:
    client = await signed_in(rig, "acme")
    page = await client.get("/send")
    form = {"csrf": csrf_of(page.text), "numbers": "13800138000\n18600186000, 12345\n13800138000",
            "text": "会议改到三点", "receipt": "1", "action": "send"}
    reply = await client.post_multipart("/send", form, {})
    assert reply.status == 200, reply.text
    rows = re.findall(r'<tr class="(ok|failed)">\s*<td>(\d+)</td><td class="nowrap">([^<]+)</td>', reply.text)
    assert rows == [("ok", "1", "13800138000"), ("ok", "2", "18600186000"), ("failed", "2", "12345"),
                    ("failed", "3", "13800138000")]
    assert "ESME_RINVDSTADR" in reply.text and "重复号码" in reply.text
    assert "已接收 2 条，失败 2 条" in reply.text
    found = await rig.store.read(web_queries.find_messages, [rig.accounts["acme"].id], web_queries.MessageFilter())
    assert sorted((m.dest_addr, m.carrier, m.text) for m in found) == [
        ("13800138000", "cmcc", "会议改到三点"), ("18600186000", "cucc", "会议改到三点")]


@pytest_twisted.ensureDeferred
async def test_csv_upload_in_gbk_with_own_texts_and_a_schedule(rig: Any) -> None:
    client = await signed_in(rig, "acme")
    data = "手机号,内容\n13800138000,张三您好\n13900139000,\nabc,李四\n".encode("gbk")
    page = await client.get("/send")
    cst = timezone(timedelta(hours=8))
    when = (datetime.now(cst) + timedelta(days=3)).replace(hour=8, minute=30, second=0, microsecond=0)
    reply = await client.post_multipart("/send", {"csrf": csrf_of(page.text), "text": "默认内容", "numbers": "",
                                                  "schedule": when.strftime("%Y-%m-%dT%H:%M"), "receipt": "1",
                                                  "action": "send"},
                                        {"csv": ("list.csv", data)})
    assert reply.status == 200, reply.text
    assert "已接收 2 条，失败 1 条" in reply.text
    found = await rig.store.read(web_queries.find_messages, [rig.accounts["acme"].id], web_queries.MessageFilter())
    assert sorted((m.dest_addr, m.text) for m in found) == [("13800138000", "张三您好"), ("13900139000", "默认内容")]
    # 08:30 China Standard Time three days on; valid for 48 hours from then, not from now
    assert {m.due_at for m in found} == {int(when.timestamp() * 1000)}
    assert {m.expires_at for m in found} == {int(when.timestamp() * 1000) + 48 * 3_600_000}
    far = await client.post_multipart("/send", {"csrf": csrf_of(page.text), "text": "x", "numbers": "13800138000",
                                                "schedule": "2099-01-02T08:30", "receipt": "1", "action": "send"}, {})
    assert far.status == 400 and "定时时间" in far.text


@pytest_twisted.ensureDeferred
async def test_preview_counts_the_signature_and_prices_per_carrier(rig: Any) -> None:
    acme = rig.accounts["acme"]
    sig_id = await rig.store.run(lists.AddSignature(acme.id, "顺风", 1, "test"))
    await rig.store.run(lists.DecideSignature(sig_id, SignatureStatus.VERIFIED, 2, "test"))
    client = await signed_in(rig, "acme")
    page = await client.get("/send")
    assert "【顺风】" in page.text
    text = "好" * 67  # 67 characters fit one UCS2 segment (70); with 【顺风】 (4 more) they need two
    fragment = await client.post("/send/preview", {"numbers": "13800138000 18900189000 18900189001 1", "text": text,
                                                   "signature": "顺风"},
                                 headers={"X-CSRF-Token": csrf_of(page.text)})
    assert fragment.status == 200
    assert re.search(r'id="preview-segments">2\b', fragment.text)
    assert re.search(r'id="preview-numbers">3 <span class="bad">1 个号码无效', fragment.text)
    assert f'id="preview-cost">¥{3 * 2 * PRICE / 100_000:.2f}<' in fragment.text
    assert "【顺风】" + text in fragment.text
    unsigned = await client.post("/send/preview", {"numbers": "13800138000", "text": text, "signature": ""},
                                 headers={"X-CSRF-Token": csrf_of(page.text)})
    assert re.search(r'id="preview-segments">1\b', unsigned.text)
    forged = await client.post("/send/preview", {"numbers": "13800138000", "text": text, "signature": "假的"},
                               headers={"X-CSRF-Token": csrf_of(page.text)})
    assert "【假的】" not in forged.text  # only verified signatures are used


@pytest_twisted.ensureDeferred
async def test_records_filters_detail_history_and_csv_export(rig: Any) -> None:
    client = await signed_in(rig, "acme")
    page = await client.get("/send")
    await client.post_multipart("/send", {"csrf": csrf_of(page.text), "numbers": "13800138000\n13300133000",
                                          "text": "=cmd|' /C calc'!A0", "receipt": "1", "action": "send"}, {})
    listing = await client.get("/records?number=%2B8613300133000")
    assert listing.status == 200
    shown = re.findall(r'<tr data-id="([0-9a-f]+)">', listing.text)
    assert len(shown) == 1
    message_id = shown[0]
    assert (await client.get("/records?state=delivered")).text.count("<tr data-id=") == 0
    assert (await client.get("/records?state=queued")).text.count("<tr data-id=") == 2
    assert (await client.get("/records?from=2000-01-01&to=2000-01-02")).text.count("<tr data-id=") == 0
    assert "日期格式不正确" in (await client.get("/records?from=yesterday")).text
    detail = await client.get(f"/records/{message_id}")
    assert detail.status == 200 and "13300133000" in detail.text
    history = re.findall(r'<span class="state (\w+)">', detail.text.split('id="history"')[1].split("</table>")[0])
    assert history == ["accepted", "queued"]
    export = await client.get("/records.csv?state=queued")
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(export.body.decode("utf-8-sig"))))
    assert rows[0][:4] == ["id", "created_at", "account", "to"]
    assert sorted(r[3] for r in rows[1:]) == ["13300133000", "13800138000"]
    assert {r[4] for r in rows[1:]} == {"'=cmd|' /C calc'!A0"}  # no formula for the spreadsheet to run


@pytest_twisted.ensureDeferred
async def test_user_content_is_escaped_everywhere(rig: Any) -> None:
    client = await signed_in(rig, "acme")
    page = await client.get("/send")
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    await client.post_multipart("/send", {"csrf": csrf_of(page.text), "numbers": "13800138000", "text": evil,
                                          "receipt": "1", "action": "send"}, {})
    for path in ("/", "/records"):
        html = (await client.get(path)).text
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;" in html
    message_id = re.findall(r'<tr data-id="([0-9a-f]+)">', (await client.get("/records")).text)[0]
    detail = (await client.get(f"/records/{message_id}")).text
    assert "<script>alert" not in detail and "&lt;script&gt;alert(&#34;x&#34;)" in detail
    reflected = await client.get('/records?number="><script>alert(2)</script>')
    assert "<script>alert(2)" not in reflected.text


@pytest_twisted.ensureDeferred
async def test_dashboard_shows_balance_volume_and_delivery_rate(rig: Any) -> None:
    from smsgw.domain.model import Report

    client = await signed_in(rig, "acme")
    page = await client.get("/send")
    await client.post_multipart("/send", {"csrf": csrf_of(page.text), "numbers": "13800138000 13800138001",
                                          "text": "hello", "receipt": "1", "action": "send"}, {})
    import time

    now = int(time.time() * 1000)
    claimed = await rig.store.claim_due(now + 1000)
    outcomes = {0: (MessageState.DELIVERED, "DELIVRD"), 1: (MessageState.UNDELIVERED, "UNDELIV")}
    for index, seg in enumerate(sorted(claimed, key=lambda c: c.message_id)):
        await rig.store.submitted(seg.message_id, 1, "cmcc", f"C{index}", now)
        state, stat = outcomes[index]
        await rig.store.report(Report("cmcc", f"C{index}", state, stat, now))
    dash = await client.get("/")
    assert dash.status == 200
    assert re.search(r'id="tile-balance">.*?¥999\.92<', dash.text, re.S)
    assert re.search(r'id="tile-today">.*?class="value">2<', dash.text, re.S)
    assert re.search(r'id="tile-rate">.*?class="value">50\.0%<', dash.text, re.S)
    assert dash.text.count('<svg class="chart"') == 2
    assert 'class="bar delivered"' in dash.text and 'class="bar failed"' in dash.text
    receipts = await client.get("/receipts?live=1")
    assert receipts.text.count("<tr data-id=") == 2 and 'http-equiv="refresh"' in receipts.text


@pytest_twisted.ensureDeferred
async def test_sub_accounts_created_limited_and_suspended_by_the_enterprise(rig: Any) -> None:
    client = await signed_in(rig, "acme")
    page = await client.get("/accounts")
    assert "acme-a" in page.text and "acme-b" in page.text
    created = await client.post("/accounts", {"csrf": csrf_of(page.text), "login": "acme-c", "password": "c-pass-1",
                                              "name": "Team C", "quota": "0.08"})
    assert created.location == "/accounts"
    from smsgw.store.accounts import find_login

    found = await rig.store.read(find_login, "acme-c")
    assert found is not None and found[0].parent_id == rig.accounts["acme"].id and found[0].quota_left == 2 * PRICE
    taken = await client.post("/accounts", {"csrf": csrf_of(page.text), "login": "rival", "password": "xxxxxx1"})
    assert "账号名已被使用" in (await client.get(taken.location)).text
    # the new sub-account signs in, sends twice within its quota, then is refused
    sub_client = Client(rig.base)
    form = await sub_client.get("/login")
    await sub_client.post("/login", {"login": "acme-c", "password": "c-pass-1", "csrf": csrf_of(form.text)})
    send = await sub_client.get("/send")
    result = await sub_client.post_multipart("/send", {"csrf": csrf_of(send.text), "numbers": "13800138000 13800138001 "
                                                       "13800138002", "text": "x", "receipt": "1", "action": "send"}, {})
    assert "已接收 2 条，失败 1 条" in result.text and "ESME_RSUBMITFAIL" in result.text
    # quota raised, password changed, then suspended: the sub-account's session ends
    cid = found[0].id
    await client.post(f"/accounts/{cid}/quota", {"csrf": csrf_of(page.text), "quota": ""})
    assert (await rig.store.get_account(cid)).quota_left is None
    await client.post(f"/accounts/{cid}/status", {"csrf": csrf_of(page.text), "status": "suspended"})
    assert (await rig.store.get_account(cid)).status is AccountStatus.SUSPENDED
    assert (await sub_client.get("/")).status == 303
    # an account of another enterprise cannot be touched
    other = await client.post(f"/accounts/{rig.accounts['rival'].id}/status",
                              {"csrf": csrf_of(page.text), "status": "suspended"})
    assert other.status == 404
    assert (await rig.store.get_account(rig.accounts["rival"].id)).status is AccountStatus.ACTIVE


@pytest_twisted.ensureDeferred
async def test_signatures_applied_by_the_enterprise_and_verified_by_an_administrator(rig: Any) -> None:
    client = await signed_in(rig, "acme")
    page = await client.get("/signatures")
    applied = await client.post("/signatures", {"csrf": csrf_of(page.text), "text": "阿克米"})
    listed = (await client.get(applied.location)).text
    assert "签名【阿克米】已提交审核" in listed and '<span class="sig pending">待审核</span>' in listed
    admin = Client(rig.base)
    form = await admin.get("/admin/login")
    bad = await admin.post("/admin/login", {"login": "root", "password": "x", "csrf": csrf_of(form.text)})
    assert bad.status == 401
    ok = await admin.post("/admin/login", {"login": "root", "password": "root-pass", "csrf": csrf_of(bad.text)})
    assert ok.location == "/admin"
    queue = await admin.get("/admin/signatures")
    assert "<td>acme</td><td>【阿克米】</td>" in queue.text
    sig = (await rig.store.read(web_queries.signatures_page, rig.accounts["acme"].id))[0]
    decided = await admin.post(f"/admin/signatures/{sig.id}", {"csrf": csrf_of(queue.text), "decision": "verified"})
    assert decided.location == "/admin/signatures"
    assert await rig.store.read(lists.verified_signatures, rig.accounts["acme"].id) == ["阿克米"]
    assert "已通过" in (await client.get("/signatures")).text
    # administrators' pages are theirs alone, and theirs are not the enterprises'
    assert (await client.get("/admin/signatures")).location == "/admin/login"
    assert (await admin.get("/records")).status == 303
    enterprises = await admin.get("/admin/enterprises")
    assert "acme" in enterprises.text and "rival" in enterprises.text and "acme-a" not in enterprises.text


@pytest_twisted.ensureDeferred
async def test_review_queue_approve_and_reject(rig: Any) -> None:
    import time

    from smsgw.domain.model import Message, Segment

    acme = rig.accounts["acme"]
    now = int(time.time() * 1000)
    held = []
    for n in range(2):
        mid = rig.intake.ids.next()
        await rig.store.accept(Message(mid, acme.id, acme.id, "", f"1380013800{n}", now, now + 3_600_000, 1,
                                       text=f"可疑内容{n}", state=MessageState.HELD, hold_reason=HoldReason.REVIEW,
                                       reason="keyword", charge=PRICE), (Segment(1, b"x"),))
        held.append(mid)
    admin = Client(rig.base)
    form = await admin.get("/admin/login")
    await admin.post("/admin/login", {"login": "root", "password": "root-pass", "csrf": csrf_of(form.text)})
    queue = await admin.get("/admin")
    assert "可疑内容0" in queue.text and "可疑内容1" in queue.text
    await admin.post(f"/admin/review/{ids.to_text(held[0])}", {"csrf": csrf_of(queue.text), "decision": "approve"})
    await admin.post(f"/admin/review/{ids.to_text(held[1])}", {"csrf": csrf_of(queue.text), "decision": "reject",
                                                               "refund": "1"})
    states = [(await rig.store.get_message(mid)).state for mid in held]
    assert states == [MessageState.QUEUED, MessageState.REJECTED]
    assert "可疑内容" not in (await admin.get("/admin")).text


@pytest_twisted.ensureDeferred
async def test_ledger_settings_keys_and_password(rig: Any) -> None:
    client = await signed_in(rig, "acme")
    ledger = await client.get("/ledger")
    assert "充值" in ledger.text and "+¥1,000.00" in ledger.text
    settings = await client.get("/settings")
    issued = await client.post("/settings/keys", {"csrf": csrf_of(settings.text), "label": "erp"})
    key = re.search(r'id="api-key">(smsgw_[^<]+)<', issued.text).group(1)
    api = await Client(rig.base).api("GET", "/api/v1/balance", key)
    assert api.status == 200 and api.json()["account"] == "acme"
    assert key not in (await client.get("/settings")).text  # shown once
    key_id = key.split("_")[1]
    await client.post(f"/settings/keys/{key_id}/revoke", {"csrf": csrf_of(settings.text)})
    assert (await Client(rig.base).api("GET", "/api/v1/balance", key)).status == 401
    page = await client.get("/settings")
    wrong = await client.post("/settings/password", {"csrf": csrf_of(page.text), "current": "bad", "new": "new-pass-1",
                                                     "repeat": "new-pass-1"})
    assert "当前密码不正确" in (await client.get(wrong.location)).text
    page = await client.get("/settings")
    changed = await client.post("/settings/password", {"csrf": csrf_of(page.text), "current": "acme-pass",
                                                       "new": "new-pass-1", "repeat": "new-pass-1"})
    assert changed.location == "/settings"
    assert "密码已修改" in (await client.get("/settings")).text  # this session goes on
    result = await rig.store.authenticate("acme", "new-pass-1", None)
    assert result.ok
