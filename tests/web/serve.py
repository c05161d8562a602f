"""``smsgw run`` on the embedded demo configuration with its web centre, as a child process for tests.

    python -m tests.web.serve DATA_DIR

Starts the gateway (SQLite in DATA_DIR, the built-in carrier simulators, the
demo account demo/demo) on free ports.  When the gateway serves the web
centre itself (``Listening.web``) that is used; until it does, this script
mounts ``smsgw.web.site.build_site`` on the running gateway's store and
intake, exactly as the gateway would, with the demo administrator
admin/admin.  It then issues an API key for ``demo`` and prints

    WEB <port>
    APIKEY <key>
    READY

and runs until it is terminated.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from twisted.internet import defer, reactor

from smsgw.app.config import load
from smsgw.app.defaults import default_config_path
from smsgw.app.gateway import GatewayService
from smsgw.store import api_keys
from smsgw.store.accounts import find_login
from smsgw.store.passwords import hash_password


async def start(data_dir: str) -> None:
    cfg = load(default_config_path()).with_overrides(data_dir=data_dir, smpp_port=0, web_port=0, manhole_port=0)
    gateway = GatewayService(cfg, reactor, announce=lambda text: print(text, file=sys.stderr, flush=True))
    reactor.addSystemEventTrigger("before", "shutdown", gateway.stopService)
    gateway.startService()
    listening = await gateway.ready
    port = listening.web
    if not port:
        from smsgw.web.site import build_site, make_site

        root = build_site(gateway.store, gateway.intake, reactor, admins={"admin": hash_password("admin")})
        port = reactor.listenTCP(0, make_site(root), interface="127.0.0.1").getHost().port
    store: Any = gateway.store
    demo = await store.read(find_login, "demo")
    key_id, secret, whole = api_keys.new_secret()
    await store.run(api_keys.IssueApiKey(demo[0].id, key_id, api_keys.secret_hash(secret), "tests",
                                         int(time.time() * 1000), "tests"))
    print(f"WEB {port}\nAPIKEY {whole}\nREADY", flush=True)


def main() -> None:
    d = defer.ensureDeferred(start(sys.argv[1]))

    def failed(failure: Any) -> None:
        print(f"FAILED {failure.getErrorMessage()}", flush=True)
        failure.printTraceback(file=sys.stderr)
        reactor.stop()

    d.addErrback(failed)
    reactor.run()


if __name__ == "__main__":
    main()
