"""The web layer's pure parts: input reading, money and time text, sessions, charts, catalogue, keys."""

from __future__ import annotations

import re
from datetime import timezone
from pathlib import Path

import pytest

from smsgw.store import api_keys
from smsgw.web import i18n
from smsgw.web.batch_input import BadInput, Row, from_csv, from_pasted
from smsgw.web.charts import Day, rate_chart, volume_chart
from smsgw.web.http import safe_next
from smsgw.web.pages.manage import yuan_to_millifen
from smsgw.web.sending import segments_of, signed
from smsgw.web.sessions import Sessions
from smsgw.web.texts import iso, mo_text, parse_iso, parse_local, tz_of, yuan

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "smsgw" / "web" / "templates"


def test_pasted_numbers_split_on_any_separator_keeping_line_numbers() -> None:
    assert from_pasted("13800138000, 13900139000\n\n18600186000；18900189000、13300133000 ") == [
        Row(1, "13800138000"), Row(1, "13900139000"), Row(3, "18600186000"), Row(3, "18900189000"),
        Row(3, "13300133000")]


def test_csv_in_utf8_or_gbk_with_header_and_own_texts() -> None:
    text = "号码,内容\n13800138000,你好\n\n13900139000\n"
    for encoding in ("utf-8-sig", "gbk"):
        assert from_csv(text.encode(encoding)) == [Row(2, "13800138000", "你好"), Row(4, "13900139000")]
    assert from_csv(b"13800138000;hi\n") == [Row(1, "13800138000", "hi")]
    with pytest.raises(BadInput):
        from_csv(b"\x00\x01binary")


def test_money_and_times() -> None:
    assert [yuan(v) for v in (0, 4000, 3500, 100_000_000, -250_000)] == ["0.00", "0.04", "0.035", "1,000.00", "-2.50"]
    assert yuan_to_millifen("12.5") == 1_250_000 and yuan_to_millifen("0.00035") == 35 and yuan_to_millifen("0.000001") is None
    assert yuan_to_millifen("-1") is None and yuan_to_millifen("abc") is None and yuan_to_millifen("1e400") is None
    assert iso(1_767_225_600_000) == "2026-01-01T00:00:00.000Z"
    assert parse_iso("2026-01-01T08:00:00+08:00") == 1_767_225_600_000
    with pytest.raises(ValueError):
        parse_iso("2026-01-01T08:00:00")  # a zone is required
    assert parse_local("2026-01-01 08:00", tz_of(480)) == 1_767_225_600_000
    assert tz_of(480).utcoffset(None).total_seconds() == 8 * 3600 and tz_of(0) == timezone.utc


def test_mo_text_decodes_the_smpp_codings() -> None:
    assert mo_text("退订".encode("utf-16-be"), 8) == "退订"
    assert mo_text(b"TD", 0) == "TD" and mo_text("好".encode("gbk"), 15) == "好"
    assert mo_text(b"\x05\x00\x03\x01\x02\x01" + "长".encode("utf-16-be"), 8, 0x40) == "长"
    assert mo_text(b"\x01\xff", 4) == "01ff"


def test_signature_and_segments() -> None:
    assert signed("你好", "顺风") == "【顺风】你好" and signed("【顺风】你好", "顺风") == "【顺风】你好"
    assert signed("hi", None) == "hi"
    assert segments_of("a" * 160)[2] == 2  # ASCII towards the carriers: 159 per segment
    assert segments_of("好" * 70)[2] == 1 and segments_of("好" * 71)[2] == 2


def test_only_local_paths_are_followed() -> None:
    for bad in ("//evil.example/", "https://evil.example/", "/\\evil", "javascript:alert(1)", "", "/x\r\nSet-Cookie: a"):
        assert safe_next(bad) == "/"
    assert safe_next("/records?state=queued") == "/records?state=queued"


def test_sessions_expire_are_bounded_and_rotate() -> None:
    now = [1000.0]
    sessions = Sessions(lambda: now[0], idle=60, lifetime=600, size=3, anonymous=2)
    first = sessions.new()
    assert sessions.get(first.token) is first and first.csrf_ok(first.csrf) and not first.csrf_ok("x")
    signed_in = sessions.sign_in(first, account_id=7, login="acme")
    assert sessions.get(first.token) is None and signed_in.token != first.token and signed_in.csrf != first.csrf
    now[0] += 61
    assert sessions.get(signed_in.token) is None  # idle too long
    kept = sessions.sign_in(None, account_id=8)
    for _ in range(50):
        sessions.new()  # a flood of anonymous visitors ...
    assert sessions.get(kept.token) is kept  # ... pushes nobody out who signed in
    assert len(sessions) == 3
    other = sessions.sign_in(None, account_id=9)
    sessions.end_account(9)
    assert sessions.get(other.token) is None and sessions.get(kept.token) is kept
    now[0] += 601
    assert sessions.get(kept.token) is None  # idle, and past its lifetime


def test_api_keys_are_split_and_hashed() -> None:
    key_id, secret, whole = api_keys.new_secret()
    assert api_keys.split_key(whole) == (key_id, secret)
    assert api_keys.split_key("smsgw_") is None and api_keys.split_key("other_x_y") is None
    assert len(api_keys.secret_hash(secret)) == 64 and secret not in api_keys.secret_hash(secret)


def test_charts_escape_their_labels_and_scale() -> None:
    t = i18n.translator("en")
    days = [Day("<b>", 3, 1, 0), Day("11-02", 0, 0, 0)]
    svg = str(volume_chart(days, t))
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    assert svg.count('class="bar delivered"') == 1 and svg.count('class="bar failed"') == 1
    line = str(rate_chart(days, t))
    assert "75.0%" in line  # 3 of 4 delivered on the first day
    assert line.count('class="point"') == 1  # no point for a day without final states


def test_every_key_the_templates_use_is_in_both_languages() -> None:
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"t\('([a-z_]+\.[a-z_]+)'", template.read_text()))
    dynamic = {f"state.{s}" for s in ("accepted", "held", "queued", "sending", "submitted", "delivered",
                                      "undelivered", "expired", "rejected")}
    dynamic |= {f"carrier.{c}" for c in ("cmcc", "cucc", "ctcc")} | {"kind.recharge", "kind.charge", "kind.refund",
                                                                     "kind.adjustment"}
    dynamic |= {f"duplicates.{mode}" for mode in ("flag", "suppress", "off")}  # the account rules page
    missing = (used | dynamic) - set(i18n.CATALOGUE)
    assert not missing
    for key, (zh, en) in i18n.CATALOGUE.items():
        assert zh and en, key
        assert set(re.findall(r"{(\w+)}", zh)) == set(re.findall(r"{(\w+)}", en)), key
