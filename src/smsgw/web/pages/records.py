"""Records (with filters, a message's history, CSV export), receipts and the MO inbox."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import attrs

from smsgw.domain import ids
from smsgw.domain.model import MessageState
from smsgw.routing.numbers import InvalidNumber, normalise
from smsgw.store import queries, web_queries
from smsgw.web.deps import Deps
from smsgw.web.http import Response, Route, WebRequest
from smsgw.web.pages.common import logins, parse_id, parse_int, scope, who
from smsgw.web.texts import local, mo_text, parse_local, yuan

DAY_MS = 86_400_000
PAGE = 50
#: the most rows one CSV export holds
EXPORT_LIMIT = 100_000
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@attrs.frozen
class Filters:
    from_: str = ""
    to: str = ""
    number: str = ""
    state: str = ""
    account: str = ""

    def query(self, **extra: str) -> str:
        values = {"from": self.from_, "to": self.to, "number": self.number, "state": self.state,
                  "account": self.account, **extra}  # fmt: skip
        return urlencode({k: v for k, v in values.items() if v})


def cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


class Records:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def routes(self) -> list[Route]:
        return [
            Route("/records", ("GET",), self.listing, "user"),
            Route("/records.csv", ("GET",), self.export, "user"),
            Route("/records/<message_id>", ("GET",), self.detail, "user"),
            Route("/receipts", ("GET",), self.receipts, "user"),
            Route("/inbox", ("GET",), self.inbox, "user"),
        ]

    def _filters(self, web: WebRequest, ids_in_scope: list[int]) -> tuple[Filters, web_queries.MessageFilter, str | None]:
        t = self.deps.renderer.t(web)
        f = Filters(web.arg("from")[:10], web.arg("to")[:10], web.arg("number")[:24], web.arg("state")[:12],
                    web.arg("account")[:19])
        problem = None
        since = until = None
        try:
            since = parse_local(f.from_, self.deps.tz) if f.from_ else None
            until = parse_local(f.to, self.deps.tz) + DAY_MS if f.to else None
        except ValueError:
            problem = t("filter.bad_date")
        number = f.number or None
        if number:
            try:
                number = normalise(number).digits
            except InvalidNumber:
                pass  # searched as typed: finds nothing unless stored so
        state = MessageState(f.state) if f.state in MessageState._value2member_map_ else None
        account = parse_int(f.account)
        if account is not None and account not in ids_in_scope:
            account = -1  # not theirs: an empty result, not someone else's rows
        before = parse_id(web.arg("before")) if web.arg("before") else None
        flt = web_queries.MessageFilter(since, until, number, state, account, before, PAGE)
        return f, flt, problem

    async def listing(self, web: WebRequest) -> Response:
        deps = self.deps
        account, _ = who(web)
        ids_in_scope = await scope(deps, account)
        f, flt, problem = self._filters(web, ids_in_scope)
        found = [] if problem else await deps.store.read(web_queries.find_messages, ids_in_scope, flt)
        names = await logins(deps, ids_in_scope)
        older = f.query(before=ids.to_text(found[-1].id)) if len(found) == PAGE else None
        return deps.renderer.page(
            web, "records.html", title_key="records.title", messages=found, f=f, problem=problem,
            states=[s.value for s in MessageState if s is not MessageState.ACCEPTED], show_account=len(ids_in_scope) > 1,
            accounts=sorted(names.items()), logins=names, query=f.query(), older=older, active="/records",
        )  # fmt: skip

    async def export(self, web: WebRequest) -> Response:
        deps = self.deps
        account, _ = who(web)
        ids_in_scope = await scope(deps, account)
        f, flt, problem = self._filters(web, ids_in_scope)
        if problem:
            return deps.renderer.error(web, 400, "error.failed", "filter.bad_date")
        names = await logins(deps, ids_in_scope)
        out = io.StringIO()
        out.write("\ufeff")  # Excel reads UTF-8 only with the mark
        writer = csv.writer(out)
        writer.writerow(["id", "created_at", "account", "to", "text", "parts", "cost_yuan", "state", "reason",
                         "final_at", "carrier"])  # fmt: skip
        written = 0
        flt = attrs.evolve(flt, limit=1000)
        while written < EXPORT_LIMIT:
            page = await deps.store.read(web_queries.find_messages, ids_in_scope, flt)
            for msg in page:
                writer.writerow([ids.to_text(msg.id), local(msg.created_at, deps.tz), cell(names.get(msg.account_id)),
                                 cell(msg.dest_addr), cell(msg.text), msg.parts, yuan(msg.charge), msg.state.value,
                                 cell(msg.reason), local(msg.final_at, deps.tz), msg.carrier or ""])  # fmt: skip
            written += len(page)
            if len(page) < flt.limit:
                break
            flt = attrs.evolve(flt, before_id=page[-1].id)
        stamp = datetime.fromtimestamp(deps.now_ms() / 1000, deps.tz).strftime("%Y%m%d-%H%M%S")
        return Response(200, out.getvalue().encode("utf-8"), "text/csv; charset=utf-8",
                        {"Content-Disposition": f'attachment; filename="smsgw-records-{stamp}.csv"'})

    async def detail(self, web: WebRequest, message_id: str) -> Response:
        deps = self.deps
        account, _ = who(web)
        mid = parse_id(message_id)
        ids_in_scope = await scope(deps, account)
        msg = None if mid is None else await deps.store.read(web_queries.message_in_scope, ids_in_scope, mid)
        if msg is None:
            return deps.renderer.error(web, 404, "error.not_found", "error.not_found_text")
        history = await deps.store.read(queries.history, mid)
        segments = await deps.store.read(queries.get_segments, mid)
        names = await logins(deps, [msg.account_id])
        return deps.renderer.page(web, "record.html", title_key="record.title", msg=msg, history=history,
                                  segments=segments, owner=names.get(msg.account_id, ""), active="/records")

    async def receipts(self, web: WebRequest) -> Response:
        deps = self.deps
        account, _ = who(web)
        ids_in_scope = await scope(deps, account)
        before = parse_int(web.arg("before"))
        found = await deps.store.read(web_queries.receipts_page, ids_in_scope, PAGE, before)
        live = web.arg("live") == "1"
        return deps.renderer.page(web, "receipts.html", title_key="receipts.title", receipts=found, live=live,
                                  refresh=5 if live else None,
                                  older=found[-1].id if len(found) == PAGE else None)

    async def inbox(self, web: WebRequest) -> Response:
        deps = self.deps
        account, _ = who(web)
        ids_in_scope = await scope(deps, account)
        before = parse_int(web.arg("before"))
        rows = await deps.store.read(web_queries.mo_page, ids_in_scope, PAGE, before)
        shown = [{"received_at": row.received_at, "source_addr": row.source_addr, "dest_addr": row.dest_addr,
                  "account_id": row.account_id, "text": mo_text(row.content, row.data_coding, row.esm_class)}
                 for row in rows]  # fmt: skip
        return deps.renderer.page(web, "inbox.html", title_key="inbox.title", items=shown,
                                  show_account=len(ids_in_scope) > 1, logins=await logins(deps, ids_in_scope),
                                  older=rows[-1].id if len(rows) == PAGE else None)
