"""Review decisions from the manhole and from the web centre take the same way: the policy
service's, so an approval while the account's send window is closed waits for it."""

from __future__ import annotations

from typing import Any

import pytest_twisted

from smsgw.admin.helpers import AdminContext, Helpers
from smsgw.domain import ids
from smsgw.domain.model import HoldReason, MessageState
from tests.policy.clock import china, wall
from tests.policy.rig import Client, make_policy_rig
from tests.policy.test_policy_smpp import _ledger_rows, in_thread, mid
from tests.policy.web import admin_site
from tests.web.rig import csrf_of

S = MessageState


@pytest_twisted.ensureDeferred
async def test_approvals_at_night_wait_for_the_window_from_manhole_and_web_alike(tmp_path: Any) -> None:
    rig = await make_policy_rig(tmp_path, start_at=china(2024, 5, 1, 21, 0), price=4000)
    await rig.policies.set_keyword("review", "贷款", "admin")
    client = Client(rig.port)
    listening = None
    try:
        await in_thread(client.bind)
        held = []
        for n in range(5):
            resp = await in_thread(client.submit, f"1380000030{n}", f"低息贷款{n}")
            held.append(mid(resp))
        assert {(await rig.store.get_message(m)).hold_reason for m in held} == {HoldReason.REVIEW}
        rig.set_time(china(2024, 5, 1, 23, 0))

        context = AdminContext(store=rig.store, clock=rig.clock, ids=rig.intake.ids, plan=rig.intake.plan,
                               hash_password=None, policies=rig.policies)  # type: ignore[arg-type]
        manhole = Helpers(context, "manhole:root")
        answer = await manhole.approve(ids.to_text(held[0]))
        assert answer == f"message {ids.to_text(held[0])} is now held"
        waiting = await rig.store.get_message(held[0])
        assert waiting.hold_reason is HoldReason.WINDOW and wall(waiting.due_at) == "2024-05-02 08:05:00"

        admin, listening = await admin_site(rig)  # the web centre's administrators' pages
        queue = await admin.get("/admin")
        csrf = csrf_of(queue.text)
        await admin.post(f"/admin/review/{ids.to_text(held[1])}", {"csrf": csrf, "decision": "approve"})
        await admin.post(f"/admin/review/{ids.to_text(held[2])}", {"csrf": csrf, "decision": "reject"})
        await admin.post(f"/admin/review/{ids.to_text(held[3])}", {"csrf": csrf, "decision": "reject", "refund": "1"})
        states = [await rig.store.get_message(m) for m in held[1:4]]
        assert (states[0].state, states[0].hold_reason) == (S.HELD, HoldReason.WINDOW)  # not queued at 23:00
        assert states[0].due_at == waiting.due_at
        assert [s.state for s in states[1:]] == [S.REJECTED, S.REJECTED]
        # refused for its content: charged, as the contract says, unless the administrator refunds it
        assert await rig.store.read(_ledger_rows, held[2]) == [("charge", -4000)]
        assert sorted(await rig.store.read(_ledger_rows, held[3])) == [("charge", -4000), ("refund", 4000)]
        missing = await admin.post("/admin/review/0000000000000001", {"csrf": csrf, "decision": "approve"})
        assert missing.status == 404

        # inside the window the same approval queues the message at once
        rig.set_time(china(2024, 5, 2, 9, 0))
        assert await manhole.approve(held[4]) == f"message {ids.to_text(held[4])} is now queued"
    finally:
        if listening is not None:
            await listening.stopListening()
        await in_thread(client.close)
        await rig.close()
