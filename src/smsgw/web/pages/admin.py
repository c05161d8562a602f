"""The provider administrators' pages: the review queue, enterprises, signature verification.

Administrators are the manhole's users (see ``auth``).  Decisions are store
operations with ``web:<administrator>`` as the audit log's actor; an approved
message is queued at once and the dispatcher is told (``intake.accepted``).
"""

from __future__ import annotations

from typing import Any

from smsgw.domain.model import SignatureStatus
from smsgw.store import lists, review, web_queries
from smsgw.store.errors import StoreError
from smsgw.web.deps import Deps
from smsgw.web.http import Response, Route, WebRequest, redirect
from smsgw.web.pages.common import actor, logins, notice, parse_id, parse_int

PAGE = 100


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
            await deps.store.review(mid, approve, deps.now_ms(), actor(web), refund=web.arg("refund") == "1")
        except StoreError as error:
            notice(web, "error", str(error))
            return redirect("/admin")
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
