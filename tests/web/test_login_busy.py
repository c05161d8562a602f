"""Sign-ins when the password checks are saturated: 429 at once, without a check and without a lockout count."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest_twisted
from twisted.internet import reactor

from smsgw.pipeline.password_checks import PasswordChecks
from tests.web.client import Client
from tests.web.rig import csrf_of, make_web_rig


@pytest_twisted.ensureDeferred
async def test_sign_in_is_answered_429_while_the_password_checks_are_full(tmp_path: Path) -> None:
    rig = await make_web_rig(tmp_path)
    release = threading.Event()
    try:
        # one check at a time and no queue, and that one check is taken (as by a flood of binds)
        checks = rig.store.passwords = PasswordChecks(reactor, rig._readers, concurrency=1, queue=0)
        held = checks.run(release.wait, 30)
        client = Client(rig.base)
        busy = await client.get("/login")
        for _ in range(rig.intake.lockout.rules.limit):  # as many as would lock the login out, were they failures
            busy = await client.post("/login", {"login": "acme", "password": "acme-pass", "csrf": csrf_of(busy.text)})
            assert busy.status == 429 and "登录请求过多" in busy.text
        admin_page = await client.get("/admin/login")
        admin = await client.post("/admin/login", {"login": "root", "password": "root-pass",
                                                   "csrf": csrf_of(admin_page.text)})
        assert admin.status == 429 and "登录请求过多" in admin.text
        assert (checks.refused, checks.checked) == (rig.intake.lockout.rules.limit + 1, 1)  # none checked
        assert rig.intake.lockout.locked_keys(reactor.seconds()) == {}  # nor counted as failures

        release.set()
        await held
        again = await client.post("/login", {"login": "acme", "password": "acme-pass", "csrf": csrf_of(busy.text)})
        assert (again.status, again.location) == (303, "/")
    finally:
        release.set()
        await rig.close()
