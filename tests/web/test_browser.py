"""The web centre in a real headless Chromium (Debian's, driven by Playwright), against ``smsgw run``'s demo.

A new user signs in as demo/demo, sends a batch to the three carriers, watches
the receipts arrive from the built-in simulators, finds the messages in the
records; uploads a CSV; switches to English; the dashboard's screenshot shows
the charts.  The provider administrator signs in too.

Chromium is launched from /usr/bin/chromium (``apt-get install chromium``;
Playwright's own browser download is not used).  Screenshots are written to
the test's temporary folder, or to ``$SMSGW_WEB_ARTIFACTS`` when set.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.web.png import colour_count, pixels
from tests.web.server import Served

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
NUMBERS = ("13800138000", "18600186000", "13300133000")  # China Mobile, Unicom, Telecom

pytestmark = pytest.mark.interop  # Chromium and Playwright: software we did not write


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True, timeout=30_000)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield tab
    context.close()
    assert errors == [], errors  # no script errors, no CSP violations


def artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SMSGW_WEB_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sign_in(page: Any, served: Served, login: str = "demo", password: str = "demo") -> None:
    page.goto(served.base + "/")
    assert page.url.endswith("/login?next=%2F")
    assert page.locator("h1").inner_text() == "登录企业中心"
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(served.base + "/")


def test_demo_user_sends_a_batch_and_watches_the_receipts(page: Any, served: Served, tmp_path: Path) -> None:
    sign_in(page, served)
    assert page.locator("#whoami").inner_text() == "demo"
    page.click("header nav >> text=发送短信")
    page.fill("#numbers", "\n".join(NUMBERS))
    page.fill("#text", "您好，您的快递已到，请及时领取。")
    # the live preview (our script, no reload): three numbers, one segment each
    page.wait_for_selector("#preview-numbers")
    assert page.locator("#preview-numbers").inner_text().startswith("3")
    assert page.locator("#preview-segments").inner_text() == "1"
    assert page.locator("#preview-cost").inner_text().startswith("¥")
    page.click("#send-button")
    page.wait_for_selector("#result-summary")
    assert page.locator("#result-summary").inner_text() == "已接收 3 条，失败 0 条"
    ids = page.locator("#results tbody a").all_inner_texts()
    assert len(ids) == 3

    page.click("text=实时查看状态报告")
    deadline = time.time() + 30
    while True:
        rows = page.locator("#receipts tbody tr[data-id]")
        shown = {rows.nth(i).get_attribute("data-id") for i in range(rows.count())}
        if set(ids) <= shown:
            break
        assert time.time() < deadline, f"receipts for {ids} did not arrive; shown {shown}"
        page.wait_for_timeout(500)
        page.reload()
    states = page.locator("#receipts tbody tr .state").all_inner_texts()
    assert set(states) <= {"发送成功", "发送失败"} and states

    page.goto(served.base + f"/records?number={NUMBERS[0]}")
    row = page.locator(f"#messages tr[data-id='{ids[0]}']")
    assert row.count() == 1
    assert row.locator(".state").inner_text() in ("发送成功", "发送失败")
    row.locator("a").first.click()
    page.wait_for_selector("#history")
    history = page.locator("#history .state").all_inner_texts()
    assert history[:2] == ["已接收", "排队中"] and history[-1] in ("发送成功", "发送失败")
    assert "已提交运营商" in history

    # the dashboard: tiles and both charts, then a screenshot whose pixels show the bars and the line
    page.goto(served.base + "/")
    assert int(page.locator("#tile-today .value").inner_text()) >= 3
    assert page.locator("#tile-rate .value").inner_text().endswith("%")
    charts = page.locator("svg.chart")
    assert charts.count() == 2 and all(charts.nth(i).bounding_box()["height"] > 100 for i in range(2))
    shot = artifacts(tmp_path) / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    width, height, _ = pixels(data)
    assert width == 1280 and height >= 900
    assert colour_count(data, (0x43, 0xA0, 0x47)) > 300  # the delivered bars and the rate line (#43a047)
    assert colour_count(data, (0x0D, 0x27, 0x42)) > 1280 * 40  # the header bar


def test_csv_upload_with_per_row_results(page: Any, served: Served, tmp_path: Path) -> None:
    sign_in(page, served)
    page.goto(served.base + "/send")
    csv_file = tmp_path / "numbers.csv"
    csv_file.write_bytes("号码,内容\n13900139000,王先生您好\n12345,坏号码\n18900189000,\n".encode("gbk"))
    page.set_input_files("#csv", str(csv_file))
    page.fill("#text", "默认内容")
    page.click("#send-button")
    page.wait_for_selector("#result-summary")
    assert page.locator("#result-summary").inner_text() == "已接收 2 条，失败 1 条"
    failed = page.locator("#results tr.failed")
    assert failed.count() == 1 and "ESME_RINVDSTADR" in failed.inner_text() and "12345" in failed.inner_text()


def test_english_and_the_administrators_view(page: Any, served: Served) -> None:
    sign_in(page, served)
    page.click("text=English")
    page.wait_for_selector("text=Delivery rate, 7 days")
    assert page.locator("html").get_attribute("lang") == "en"
    page.click("header nav >> text=Records")
    assert page.locator("h1").inner_text() == "Records"
    page.click("text=中文")
    page.click("button:has-text('退出')")
    page.wait_for_url(re.compile(r".*/login$"))
    page.goto(served.base + "/admin/login")
    page.fill("input[name=login]", "admin")
    page.fill("input[name=password]", "admin")
    page.click("button[type=submit]")
    page.wait_for_url(served.base + "/admin")
    assert page.locator("h1").inner_text() == "内容审核队列"
    page.click("header nav >> text=企业")
    assert "demo" in page.locator("#enterprises").inner_text()
