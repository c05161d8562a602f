"""The web centre on a policy rig's store, intake and policy service, with an administrator signed in."""

from __future__ import annotations

from typing import Any

from twisted.internet import reactor as global_reactor

from smsgw.web.site import build_site, make_site
from tests.web.client import Client as WebClient
from tests.web.rig import CHEAP, csrf_of


async def admin_site(rig: Any) -> tuple[WebClient, Any]:
    """(a client signed in as administrator ``root``, the listening port to stop)."""
    root = build_site(rig.store, rig.intake, global_reactor, admins={"root": CHEAP.hash("root-pass")})
    listening = global_reactor.listenTCP(0, make_site(root), interface="127.0.0.1")
    admin = WebClient(f"http://127.0.0.1:{listening.getHost().port}")
    form = await admin.get("/admin/login")
    signed_in = await admin.post("/admin/login", {"login": "root", "password": "root-pass",
                                                  "csrf": csrf_of(form.text)})
    assert signed_in.location == "/admin"
    return admin, listening
