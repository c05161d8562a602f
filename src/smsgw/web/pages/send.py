"""Sending: one number or a batch (pasted list or CSV upload), with a preview of segments and cost.

The form posts to ``/send`` with ``action=preview`` (the page again, with the
preview) or ``action=send`` (a page of per-row results); the page's script
asks ``/send/preview`` for the preview fragment while the user types.  The
signature is one of the enterprise's verified signatures (its default, the
oldest, chosen first), put before the text as 【signature】 and counted in
the segments and the cost; the signature policy then finds it verified and
adds nothing, so the preview is what is billed.
"""

from __future__ import annotations

from typing import Any

import attrs

from smsgw.protocols.smpp34.status import MEANINGS, CommandStatus, status_name
from smsgw.web.i18n import CATALOGUE
from smsgw.domain.model import SignatureStatus
from smsgw.store import web_queries
from smsgw.web.batch_input import MAX_ROWS, BadInput, Row, from_csv, from_pasted
from smsgw.web.deps import Deps
from smsgw.web.http import BodyTooLarge, Response, Route, WebRequest, html_response
from smsgw.web.pages.common import who
from smsgw.web.sending import MAX_SCHEDULE_MS, Outgoing, Preview, preview, signed
from smsgw.web.texts import local, parse_local



@attrs.frozen
class RowResult:
    line: int
    number: str
    ok: bool
    message_id: str | None = None
    code: str = ""
    meaning: str = ""


@attrs.frozen
class Form:
    numbers: str = ""
    text: str = ""
    signature: str = ""
    schedule: str = ""
    receipt: bool = True


class Send:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def routes(self) -> list[Route]:
        return [
            Route("/send", ("GET",), self.form, "user"),
            Route("/send", ("POST",), self.post, "user"),
            Route("/send/preview", ("POST",), self.preview_fragment, "user"),
        ]

    async def _signatures(self, web: WebRequest) -> list[str]:
        """The enterprise's verified signatures, oldest (its default) first, without brackets."""
        _, enterprise = who(web)
        found = await self.deps.store.read(web_queries.signatures_page, enterprise.id, SignatureStatus.VERIFIED)
        return [sig.text.strip().removeprefix("【").removesuffix("】") for sig in found]

    def _page(self, web: WebRequest, form: Form, signatures: list[str], shown: Preview | None = None,
              status: int = 200) -> Response:
        return self.deps.renderer.page(web, "send.html", status, title_key="send.title", form=form,
                                       signatures=signatures, preview=shown)

    async def form(self, web: WebRequest) -> Response:
        signatures = await self._signatures(web)
        return self._page(web, Form(signature=signatures[0] if signatures else ""), signatures)

    def _read_form(self, web: WebRequest) -> Form:
        return Form(numbers=web.arg("numbers")[:400_000], text=web.secret("text").strip()[:1000],
                    signature=web.arg("signature")[:32], schedule=web.arg("schedule")[:32],
                    receipt=web.arg("receipt") == "1")

    async def _preview(self, web: WebRequest, form: Form, rows: list[Row], signatures: list[str]) -> Preview | None:
        account, _ = who(web)
        if not form.text:
            return None
        signature = form.signature if form.signature in signatures else None
        return await preview(self.deps.intake, account, signed(form.text, signature), [row.number for row in rows])

    async def preview_fragment(self, web: WebRequest) -> Response:
        form = self._read_form(web)
        signatures = await self._signatures(web)
        shown = await self._preview(web, form, from_pasted(form.numbers)[:MAX_ROWS], signatures)
        return html_response(self.deps.renderer.text(web, "_preview.html", preview=shown))

    async def post(self, web: WebRequest) -> Response:
        deps = self.deps
        t = deps.renderer.t(web)
        account, _ = who(web)
        try:
            form = self._read_form(web)
            upload = web.file("csv")
            web.body()  # refuses bodies over the limit
        except BodyTooLarge:
            return deps.renderer.error(web, 413, "error.failed", "error.too_large")
        signatures = await self._signatures(web)
        rows = from_pasted(form.numbers)
        problems = []
        if upload.strip():
            try:
                rows += from_csv(upload)
            except BadInput as error:
                problems.append(t("send.bad_csv", why=str(error)))
        schedule_ms = None
        if form.schedule:
            try:
                schedule_ms = parse_local(form.schedule, deps.tz)
            except ValueError:
                problems.append(t("send.bad_schedule"))
            else:
                if schedule_ms > deps.now_ms() + MAX_SCHEDULE_MS:
                    problems.append(t("send.far_schedule"))
        if not rows:
            problems.append(t("send.no_numbers"))
        if len(rows) > MAX_ROWS:
            problems.append(t("send.too_many", n=MAX_ROWS))
        if not form.text and not any(row.text for row in rows):
            problems.append(t("send.no_text"))
        shown = await self._preview(web, form, rows[:MAX_ROWS], signatures)
        if problems or web.arg("action") != "send":
            for problem in problems:
                web.state["session"].notices.append(("error", problem))
            return self._page(web, form, signatures, shown, 400 if problems and web.arg("action") == "send" else 200)
        signature = form.signature if form.signature in signatures else None
        results = await self._send(web, account, rows, form, signature, schedule_ms)
        accepted = sum(1 for r in results if r.ok)
        return deps.renderer.page(web, "send_result.html", title_key="result.title", rows=results,
                                  accepted=accepted, rejected=len(results) - accepted,
                                  schedule=local(schedule_ms, deps.tz) if schedule_ms else None)

    async def _send(self, web: WebRequest, account: Any, rows: list[Row], form: Form, signature: str | None,
                    schedule_ms: int | None) -> list[RowResult]:
        t = self.deps.renderer.t(web)
        seen: set[str] = set()
        outgoing: list[tuple[Row, Outgoing]] = []
        results: dict[int, RowResult] = {}
        for index, row in enumerate(rows):
            key = row.number.lstrip("+")
            key = key[2:] if key.startswith("86") and len(key) == 13 else key
            if key in seen:
                results[index] = RowResult(row.line, row.number, False, code="DUPLICATE",
                                           meaning=t("send.duplicate"))
                continue
            seen.add(key)
            text = signed(row.text or form.text, signature)
            outgoing.append((row, Outgoing(row.number, text, receipt=form.receipt, schedule_ms=schedule_ms)))
        sent = await self.deps.sender.many(account, [out for _, out in outgoing])
        by_row = iter(zip(outgoing, sent))
        ordered = []
        for index, row in enumerate(rows):
            if index in results:
                ordered.append(results[index])
                continue
            (_, out), outcome = next(by_row)
            if outcome.ok:
                ordered.append(RowResult(row.line, row.number, True, outcome.message_id))
            else:
                name = status_name(outcome.status)
                ordered.append(RowResult(row.line, row.number, False, code=name, meaning=meaning(t, outcome.status)))
        return ordered


def meaning(t: Any, command_status: int) -> str:
    """What a refusal means, in the page's language when the catalogue has it."""
    name = status_name(command_status)
    if f"smpp.{name}" in CATALOGUE:
        return str(t(f"smpp.{name}"))
    try:
        return MEANINGS[CommandStatus(command_status)]
    except (ValueError, KeyError):
        return name
