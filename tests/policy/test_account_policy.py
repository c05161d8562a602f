"""Per-account rules changed at run time (manhole, web centre) are in force at once, reach the
other nodes through the store, and survive a restart."""

from __future__ import annotations

import time
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import reactor as global_reactor
from twisted.internet import task
from twisted.python.threadpool import ThreadPool

from smsgw.admin.helpers import AdminContext, AdminError, Helpers
from smsgw.domain.model import MessageState
from smsgw.pipeline.policies import PolicyService
from smsgw.pipeline.storage import StoreClient
from smsgw.policy.settings import AccountPolicy, DuplicateMode, PolicySettings
from smsgw.store.account_policy import account_policies
from smsgw.store.db import sqlite_url
from smsgw.store.startup import open_store
from tests.policy.clock import china
from tests.policy.rig import make_policy_rig
from tests.policy.web import admin_site
from tests.web.rig import csrf_of

S = MessageState
NIGHT = china(2024, 5, 1, 23, 0)


@pytest_twisted.inlineCallbacks
def test_rules_set_at_run_time_apply_at_once_reach_other_nodes_and_survive_a_restart(tmp_path: Any) -> None:
    settings = PolicySettings(accounts={"demo": AccountPolicy(per_day=5)})  # the file's, under the run time's
    rig = yield make_policy_rig(tmp_path, settings=settings, start_at=NIGHT)
    other = PolicyService(rig.store, task.Clock(), rig.intake.ids, rig.intake.plan, settings)  # a second node
    yield other.start()
    account = rig.account
    try:
        assert rig.policies.window_release(account.id, NIGHT) is not None
        own = yield rig.policies.set_account_policy(account, "manhole:root", {
            "window_open": "00:00", "window_close": "24:00", "duplicates": "suppress", "refund": ["undelivered"]})
        assert own == AccountPolicy(window_open="00:00", window_close="24:00", duplicates=DuplicateMode.SUPPRESS,
                                    refund=("undelivered",))
        rules = rig.policies.chain.rules_of(account.id)
        assert rules.window.always and rules.duplicates is DuplicateMode.SUPPRESS and rules.per_day == 5
        assert rig.policies.window_release(account.id, NIGHT) is None  # the dispatcher sends it at night now
        assert (yield rig.store.read(account_policies))["demo"]["duplicates"] == "suppress"

        # mistakes are refused before anything is written
        for bad in ({"window_open": "25:00"}, {"duplicates": "maybe"}, {"per_hour": "lots"},
                    {"window_open": "09:00", "window_close": "09:00"}, {"colour": "red"}):
            with pytest.raises(ValueError):
                yield rig.policies.set_account_policy(account, "manhole:root", bad)
        assert rig.policies.chain.overrides["demo"] == own

        # the other node hears of it through the audit log, at its next look
        assert "demo" not in other.chain.overrides
        yield other.poll()
        assert other.chain.overrides["demo"] == own and other.chain.rules_of(account.id).window.always
        assert other.store.rules.refunds(account.id) == {S.UNDELIVERED}

        # None removes one value: the configured one applies again
        yield rig.policies.set_account_policy(account, "manhole:root", {"duplicates": None, "per_day": 2})
        assert rig.policies.chain.rules_of(account.id).duplicates is DuplicateMode.FLAG
        yield other.poll()
        assert other.chain.rules_of(account.id).per_day == 2
    finally:
        other.stop()
        yield rig.close()

    # a restart: a new store client and policy service on the same database
    opened = open_store(sqlite_url(str(tmp_path)), notify=global_reactor.callFromThread, now=int(time.time() * 1000))
    readers = ThreadPool(minthreads=1, maxthreads=2, name="restart-readers")
    readers.start()
    store = StoreClient(opened.writer, global_reactor, readers)
    restarted = PolicyService(store, task.Clock(), rig.intake.ids, rig.intake.plan, settings)
    try:
        yield restarted.start()
        assert restarted.chain.overrides["demo"] == AccountPolicy(window_open="00:00", window_close="24:00",
                                                                  refund=("undelivered",), per_day=2)
        assert restarted.window_release(account.id, NIGHT) is None
        assert store.rules.refunds(account.id) == {S.UNDELIVERED}
    finally:
        restarted.stop()
        yield store.stop()
        readers.stop()
        opened.engine.dispose()


@pytest_twisted.ensureDeferred
async def test_manhole_helpers_show_set_and_clear_an_accounts_rules(tmp_path: Any) -> None:
    rig = await make_policy_rig(tmp_path, start_at=NIGHT)
    try:
        context = AdminContext(store=rig.store, clock=rig.clock, ids=rig.intake.ids, plan=rig.intake.plan,
                               hash_password=None, policies=rig.policies)  # type: ignore[arg-type]
        manhole = Helpers(context, "manhole:root")
        assert (await manhole.account_policy("demo")).startswith("demo: own rules none")
        shown = await manhole.set_account_policy("demo", window_open="08:00", window_close="21:00",
                                                 refund=["rejected", "expired"])
        assert "own rules refund=['rejected', 'expired'], window_close='21:00', window_open='08:00'" in shown
        assert "send window     08:00-21:00, held ones released 08:05" in shown
        assert "refunded when   expired, rejected" in shown
        with pytest.raises(AdminError, match="not a final failure"):
            await manhole.set_account_policy("demo", refund=["delivered"])
        assert "own rules none" in await manhole.clear_account_policy("demo")
        assert "demo" not in rig.policies.chain.overrides and not await rig.store.read(account_policies)

        # without the policy service the helpers write to the store; the policies see it at their next look
        bare = Helpers(AdminContext(store=rig.store, clock=rig.clock, ids=rig.intake.ids, plan=rig.intake.plan,
                                    hash_password=None), "manhole:root")  # type: ignore[arg-type]
        assert "own rules duplicates='off'" in await bare.set_account_policy("demo", duplicates="off")
        with pytest.raises(AdminError):
            await bare.set_account_policy("demo", duplicates="sometimes")
        await rig.policies.poll()
        assert rig.policies.chain.rules_of(rig.account.id).duplicates is DuplicateMode.OFF
    finally:
        await rig.close()


@pytest_twisted.ensureDeferred
async def test_the_web_centre_edits_an_accounts_rules_through_the_policy_service(tmp_path: Any) -> None:
    rig = await make_policy_rig(tmp_path, start_at=NIGHT)
    admin, listening = await admin_site(rig)
    try:
        listed = await admin.get("/admin/enterprises")
        assert 'href="/admin/accounts/demo/policy"' in listed.text
        page = await admin.get("/admin/accounts/demo/policy")
        assert page.status == 200 and 'id="account-policy"' in page.text and "07:00–22:30" in page.text
        form = {"csrf": csrf_of(page.text), "window_open": "00:00", "window_close": "24:00", "window_release": "",
                "duplicates": "suppress", "range_run": "0", "per_minute": "", "per_hour": "", "per_day": "3",
                "refund_own": "1", "refund": ["rejected", "undelivered"]}
        saved = await admin.post("/admin/accounts/demo/policy", form)
        assert saved.location == "/admin/accounts/demo/policy"
        assert rig.policies.chain.overrides["demo"] == AccountPolicy(
            window_open="00:00", window_close="24:00", duplicates=DuplicateMode.SUPPRESS, per_day=3, range_run=0,
            refund=("rejected", "undelivered"))  # 0 is a value: no range check for this account
        assert rig.policies.window_release(rig.account.id, NIGHT) is None  # in force at once
        assert (await rig.store.read(account_policies))["demo"]["per_day"] == 3  # and kept
        shown = await admin.get("/admin/accounts/demo/policy")
        assert "规则已保存" in shown.text and 'value="3"' in shown.text and "00:00–24:00" in shown.text

        bad = await admin.post("/admin/accounts/demo/policy", {**form, "csrf": csrf_of(shown.text),
                                                               "window_close": "26:00"})
        assert "no such time of day" in (await admin.get(bad.location)).text
        assert rig.policies.chain.overrides["demo"].window_close == "24:00"  # nothing changed
        cleared = await admin.post("/admin/accounts/demo/policy", {"csrf": csrf_of(shown.text)})
        assert cleared.status == 303 and "demo" not in rig.policies.chain.overrides
        assert (await admin.get("/admin/accounts/nobody/policy")).status == 404
    finally:
        await listening.stopListening()
        await rig.close()
