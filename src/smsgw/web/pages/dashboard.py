"""The dashboard: balance, today's and recent volume, delivery rate, recent messages."""

from __future__ import annotations

from datetime import datetime, timedelta

from smsgw.domain.model import MessageState
from smsgw.store import web_queries
from smsgw.web.charts import Day, rate_chart, volume_chart
from smsgw.web.deps import Deps
from smsgw.web.http import Response, Route, WebRequest
from smsgw.web.pages.common import logins, scope, who

DAY_MS = 86_400_000
DAYS = 14
FAILED = {MessageState.UNDELIVERED.value, MessageState.EXPIRED.value, MessageState.REJECTED.value}


class Dashboard:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    def routes(self) -> list[Route]:
        return [Route("/", ("GET",), self.show, "user")]

    async def show(self, web: WebRequest) -> Response:
        deps = self.deps
        account, enterprise = who(web)
        ids = await scope(deps, account)
        offset = int(deps.tz.utcoffset(None).total_seconds() * 1000)
        today = (deps.now_ms() + offset) // DAY_MS
        first = today - DAYS + 1
        counts = await deps.store.read(web_queries.daily_counts, ids, first * DAY_MS - offset, offset)
        days = []
        per_day: dict[int, tuple[int, int]] = {}
        for (day, state), (messages, segments) in counts.items():
            total = per_day.get(day, (0, 0))
            per_day[day] = (total[0] + messages, total[1] + segments)
        for day in range(first, today + 1):
            delivered = failed = pending = 0
            for (d, state), (messages, _) in counts.items():
                if d != day:
                    continue
                if state == MessageState.DELIVERED.value:
                    delivered += messages
                elif state in FAILED:
                    failed += messages
                else:
                    pending += messages
            label = (datetime(1970, 1, 1) + timedelta(days=day)).strftime("%m-%d")
            days.append(Day(label, delivered, failed, pending))
        week_days = days[-7:]
        week = {"messages": sum(d.total for d in week_days),
                "segments": sum(per_day.get(day, (0, 0))[1] for day in range(today - 6, today + 1)),
                "final": sum(d.delivered + d.failed for d in week_days)}  # fmt: skip
        delivered = sum(d.delivered for d in week_days)
        rate_text = f"{delivered * 100 / week['final']:.1f}%" if week["final"] else "—"
        today_stats = {"messages": per_day.get(today, (0, 0))[0], "segments": per_day.get(today, (0, 0))[1]}
        recent = await deps.store.read(web_queries.find_messages, ids, web_queries.MessageFilter(limit=10))
        t = deps.renderer.t(web)
        return deps.renderer.page(
            web, "dashboard.html", title_key="dash.title", account=account, enterprise=enterprise,
            today=today_stats, week=week, rate_text=rate_text, volume_chart=volume_chart(days, t),
            rate_chart=rate_chart(days, t), messages=recent, show_account=len(ids) > 1,
            logins=await logins(deps, ids),
        )  # fmt: skip
