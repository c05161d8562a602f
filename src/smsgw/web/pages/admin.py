"""The provider administrators' pages: the review queue, enterprises, signature verification.

Administrators are the manhole's users (see ``auth``).  Decisions are store
operations with ``web:<administrator>`` as the audit log's actor.  A review is
decided as from the manhole (``pipeline.policy_admin.review_message``): an approved
message goes out, or waits held for its account's send window when it is closed.
An account's own rules (send window, duplicates, limits, refund) are edited
here too, kept in the store like the manhole's (``policy_admin.set_account_rules``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from smsgw.domain.model import SignatureStatus
from smsgw.pipeline.policy_admin import review_message, set_account_rules
from smsgw.policy.settings import REFUNDABLE, DuplicateMode
from smsgw.store import admin_ops, lists, review, web_queries
from smsgw.store.account_policy import account_policies
from smsgw.store.errors import StoreError
from smsgw.web.deps import Deps
from smsgw.web.http import Response, Route, WebRequest, redirect
from smsgw.web.pages.common import actor, logins, notice, parse_id, parse_int

PAGE = 100
#: the per-account rules the form edits (duplicates and refund have their own controls): key, numeric
POLICY_FIELDS = (("window_open", False), ("window_close", False), ("window_release", False), ("duplicates", False),
                 ("range_run", True), ("per_minute", True), ("per_hour", True), ("per_day", True))


class Admin:
    def __init__(self, deps: Deps, changed: Any) -> None:
        self.deps = deps
        self.changed = changed

    def routes(self) -> list[Route]:
        return [
            Route("/admin", ("GET",), self.review_queue, "admin"),
            Route("/admin/review/<message_id>", ("POST",), self.decide_review, "admin"),
            Route("/admin/enterprises", ("GET",), self.enterprises, "admin"),
            Route("/admin/signatures", ("GET",), self.signatures, "admin"),
            Route("/admin/signatures/<int:signature_id>", ("POST",), self.decide_signature, "admin"),
            Route("/admin/accounts/<login>/policy", ("GET",), self.account_policy, "admin"),
            Route("/admin/accounts/<login>/policy", ("POST",), self.set_account_policy, "admin"),
        ]

    async def review_queue(self, web: WebRequest) -> Response:
        deps = self.deps
        items = await deps.store.read(review.pending_reviews, PAGE)
        names = await logins(deps, {item.enterprise_id for item in items})
        return deps.renderer.page(web, "admin_review.html", title_key="admin.review_title", items=items,
                                  logins=names, active="/admin")

    async def decide_review(self, web: WebRequest, message_id: str) -> Response:
        deps = self.deps
        mid = parse_id(message_id)
        if mid is None:
            return deps.renderer.error(web, 404, "error.not_found", "error.not_found_text")
        approve = web.arg("decision") == "approve"
        try:
            state = await review_message(deps.store, deps.policies, mid, approve, actor(web), deps.now_ms(),
                                         refund=True if web.arg("refund") == "1" else None)
        except StoreError as error:
            notice(web, "error", str(error))
            return redirect("/admin")
        if state is None:
            return deps.renderer.error(web, 404, "error.not_found", "error.not_found_text")
        if approve:
            deps.intake.accepted()
        notice(web, "ok", deps.renderer.t(web)("admin.decided"))
        return redirect("/admin")

    async def enterprises(self, web: WebRequest) -> Response:
        deps = self.deps
        after = parse_int(web.arg("after")) or 0
        rows = await deps.store.read(web_queries.enterprise_page, PAGE, after)
        return deps.renderer.page(web, "admin_enterprises.html", title_key="admin.enterprises_title", rows=rows,
                                  more=rows[-1][0].id if len(rows) == PAGE else None, active="/admin/enterprises")

    async def signatures(self, web: WebRequest) -> Response:
        deps = self.deps
        wanted = web.arg("status") or "pending"
        status = SignatureStatus(wanted) if wanted in SignatureStatus._value2member_map_ else SignatureStatus.PENDING
        found = await deps.store.read(web_queries.signatures_page, None, status, 500)
        names = await logins(deps, {sig.enterprise_id for sig in found})
        return deps.renderer.page(web, "admin_signatures.html", title_key="admin.signatures_title",
                                  signatures=found, logins=names, status=status.value, active="/admin/signatures")

    async def decide_signature(self, web: WebRequest, signature_id: int) -> Response:
        deps = self.deps
        decision = web.arg("decision")
        if decision not in (SignatureStatus.VERIFIED.value, SignatureStatus.REJECTED.value):
            return deps.renderer.error(web, 400, "error.failed", "error.not_found_text")
        owner = await deps.store.read(web_queries.signature_owner, signature_id)
        if owner is None:
            return deps.renderer.error(web, 404, "error.not_found", "error.not_found_text")
        await deps.store.run(lists.DecideSignature(signature_id, SignatureStatus(decision), deps.now_ms(), actor(web)))
        self.changed("signatures", owner)
        notice(web, "ok", deps.renderer.t(web)("admin.decided"))
        return redirect("/admin/signatures")

    async def account_policy(self, web: WebRequest, login: str) -> Response:
        """An account's own rules (over the configuration's), and those in force for it."""
        deps = self.deps
        acc = await deps.store.read(admin_ops.find_account, login)
        if acc is None:
            return deps.renderer.error(web, 404, "error.not_found", "error.not_found_text")
        if deps.policies is not None:
            own_policy, rules = deps.policies.account_policy(acc.login)
            own = own_policy.changes() if own_policy is not None else {}
        else:
            own, rules = (await deps.store.read(account_policies)).get(acc.login, {}), None
        return deps.renderer.page(web, "admin_policy.html", title_key="admin.policy_title", account=acc, own=own,
                                  rules=rules, fields=POLICY_FIELDS, refundable=REFUNDABLE,
                                  duplicates=[mode.value for mode in DuplicateMode], active="/admin/enterprises")

    async def set_account_policy(self, web: WebRequest, login: str) -> Response:
        """The form holds every own rule: what is left empty comes from the configuration again."""
        deps = self.deps
        acc = await deps.store.read(admin_ops.find_account, login)
        if acc is None:
            return deps.renderer.error(web, 404, "error.not_found", "error.not_found_text")
        changes: dict[str, Any] = {}
        for key, numeric in POLICY_FIELDS:
            value = web.arg(key)  # empty: the configured value; "0" is a value (no limit) like any other
            changes[key] = None if not value else int(value) if numeric and value.isdigit() else value
        changes["refund"] = web.args("refund") if web.arg("refund_own") == "1" else None
        try:
            await set_account_rules(deps.store, deps.policies, acc, actor(web), changes, deps.now_ms(), replace=True)
        except ValueError as bad:
            notice(web, "error", str(bad))
        else:
            notice(web, "ok", deps.renderer.t(web)("admin.policy_saved"))
        return redirect(f"/admin/accounts/{quote(acc.login)}/policy")
