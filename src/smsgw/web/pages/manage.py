"""The enterprise's own administration: sub-accounts, signatures, blacklist, ledger.

Sub-accounts and the blacklist belong to the enterprise account alone; a
sub-account sees the enterprise's signatures (to send with them) and its own
rows of the ledger.  Every change is a store operation with the signed-in
user as the audit log's actor; ``changed(kind, enterprise_id)`` tells the
policy layer to reload what it keeps in memory (blacklist, signatures).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation as BadDecimal
from typing import Any

from smsgw.domain.model import YUAN, AccountStatus
from smsgw.routing.numbers import InvalidNumber, normalise
from smsgw.store import accounts as store_accounts
from smsgw.store import lists, web_queries
from smsgw.store.errors import InvalidOperation
from smsgw.web.deps import Deps
from smsgw.web.http import Response, Route, WebRequest, redirect
from smsgw.web.pages.common import actor, logins, notice, parse_int, scope, who

_LOGIN = re.compile(r"[A-Za-z0-9_.\-]{3,32}")
PAGE = 50


def yuan_to_millifen(text: str) -> int | None:
    """``12.5`` → 1 250 000; None for anything that is not an amount of 0 or more (at most 3 decimals of fen)."""
    try:
        value = Decimal(text.replace(",", "").replace("¥", "").strip())
    except BadDecimal:
        return None
    if not value.is_finite() or value < 0 or value > 10**9:
        return None
    millifen = value * YUAN
    return int(millifen) if millifen == millifen.to_integral_value() else None


class Manage:
    def __init__(self, deps: Deps, changed: Any) -> None:
        self.deps = deps
        self.changed = changed

    def routes(self) -> list[Route]:
        return [
            Route("/accounts", ("GET",), self.accounts, "enterprise"),
            Route("/accounts", ("POST",), self.create_account, "enterprise"),
            Route("/accounts/<int:account_id>/<what>", ("POST",), self.change_account, "enterprise"),
            Route("/signatures", ("GET",), self.signatures, "user"),
            Route("/signatures", ("POST",), self.apply_signature, "enterprise"),
            Route("/blacklist", ("GET",), self.blacklist, "enterprise"),
            Route("/blacklist", ("POST",), self.change_blacklist, "enterprise"),
            Route("/ledger", ("GET",), self.ledger, "user"),
        ]

    # ------------------------------------------------------------------ sub-accounts

    async def accounts(self, web: WebRequest) -> Response:
        _, enterprise = who(web)
        subs = await self.deps.store.read(store_accounts.sub_accounts, enterprise.id)
        return self.deps.renderer.page(web, "accounts.html", title_key="accounts.title", subs=subs)

    async def create_account(self, web: WebRequest) -> Response:
        deps = self.deps
        t = deps.renderer.t(web)
        _, enterprise = who(web)
        login = web.arg("login")
        password = web.secret("password")
        quota_text = web.arg("quota")
        quota = yuan_to_millifen(quota_text) if quota_text else None
        if not _LOGIN.fullmatch(login):
            notice(web, "error", t("accounts.bad_login"))
        elif len(password) < 6:
            notice(web, "error", t("accounts.bad_password"))
        elif quota_text and quota is None:
            notice(web, "error", t("accounts.bad_quota"))
        else:
            try:
                await deps.store.create_account(login, password, deps.now_ms(), actor(web), parent_id=enterprise.id,
                                                name=web.arg("name")[:128], quota_left=quota,
                                                tps=enterprise.tps, max_binds=enterprise.max_binds,
                                                reassemble_mo=enterprise.reassemble_mo)
                notice(web, "ok", t("accounts.created", login=login))
            except InvalidOperation:
                notice(web, "error", t("accounts.taken"))
        return redirect("/accounts")

    async def change_account(self, web: WebRequest, account_id: int, what: str) -> Response:
        deps = self.deps
        t = deps.renderer.t(web)
        _, enterprise = who(web)
        sub = await deps.store.get_account(account_id)
        if sub is None or sub.parent_id != enterprise.id or what not in ("quota", "password", "status"):
            return deps.renderer.error(web, 404, "error.not_found", "error.not_found_text")
        now = deps.now_ms()
        if what == "quota":
            text = web.arg("quota")
            quota = yuan_to_millifen(text) if text else None
            if text and quota is None:
                notice(web, "error", t("accounts.bad_quota"))
                return redirect("/accounts")
            await deps.store.run(store_accounts.UpdateAccount(sub.id, now, actor(web), (("quota_left", quota),)))
        elif what == "password":
            password = web.secret("password")
            if len(password) < 6:
                notice(web, "error", t("accounts.bad_password"))
                return redirect("/accounts")
            await deps.store.set_password(sub.id, password, now, actor(web))
            deps.sessions.end_account(sub.id)
        else:
            status = AccountStatus.SUSPENDED if web.arg("status") == "suspended" else AccountStatus.ACTIVE
            await deps.store.set_status(sub.id, status, now, actor(web), "web centre")
            if status is AccountStatus.SUSPENDED:
                deps.sessions.end_account(sub.id)
        notice(web, "ok", t("accounts.updated"))
        return redirect("/accounts")

    # ------------------------------------------------------------------ signatures

    async def signatures(self, web: WebRequest) -> Response:
        account, enterprise = who(web)
        found = await self.deps.store.read(web_queries.signatures_page, enterprise.id)
        return self.deps.renderer.page(web, "signatures.html", title_key="signatures.title", signatures=found,
                                       can_apply=account.is_enterprise)

    async def apply_signature(self, web: WebRequest) -> Response:
        deps = self.deps
        t = deps.renderer.t(web)
        _, enterprise = who(web)
        text = web.arg("text")
        if not 2 <= len(text) <= 12 or any(ch in text for ch in "【】[]<>"):
            notice(web, "error", t("signatures.bad"))
            return redirect("/signatures")
        existing = await deps.store.read(web_queries.signatures_page, enterprise.id)
        if any(sig.text == text for sig in existing):
            notice(web, "error", t("signatures.exists"))
            return redirect("/signatures")
        await deps.store.run(lists.AddSignature(enterprise.id, text, deps.now_ms(), actor(web)))
        self.changed("signatures", enterprise.id)
        notice(web, "ok", t("signatures.applied_ok", text=text))
        return redirect("/signatures")

    # ------------------------------------------------------------------ blacklist

    async def blacklist(self, web: WebRequest) -> Response:
        _, enterprise = who(web)
        rows = await self.deps.store.read(web_queries.blacklist_page, enterprise.id, PAGE, web.arg("after")[:21])
        return self.deps.renderer.page(web, "blacklist.html", title_key="blacklist.title", rows=rows,
                                       more=rows[-1].phone if len(rows) == PAGE else None)

    async def change_blacklist(self, web: WebRequest) -> Response:
        deps = self.deps
        t = deps.renderer.t(web)
        _, enterprise = who(web)
        try:
            phone = normalise(web.arg("phone")).digits
        except InvalidNumber:
            notice(web, "error", t("blacklist.bad"))
            return redirect("/blacklist")
        listed = web.arg("op") != "remove"
        await deps.store.run(lists.Blacklist(phone, deps.now_ms(), actor(web), scope_id=enterprise.id, listed=listed,
                                             reason=web.arg("reason")[:128] or None))
        self.changed("blacklist", enterprise.id)
        notice(web, "ok", t("blacklist.added" if listed else "blacklist.removed", phone=phone))
        return redirect("/blacklist")

    # ------------------------------------------------------------------ ledger

    async def ledger(self, web: WebRequest) -> Response:
        deps = self.deps
        account, enterprise = who(web)
        before = parse_int(web.arg("before"))
        own = None if account.is_enterprise else account.id
        entries = await deps.store.read(web_queries.ledger_page, enterprise.id, own, PAGE, before)
        return deps.renderer.page(web, "ledger.html", title_key="ledger.title", entries=entries,
                                  enterprise=enterprise, logins=await logins(deps, await scope(deps, account)),
                                  older=entries[-1].id if len(entries) == PAGE else None)

