"""bench/smpp gateway under test: the SMPP listener and intake over the durable SQLite store, nothing else.

    .venv/bin/python bench/smpp/server.py DATA_DIR [--binds N]

What a submit_sm goes through here is what it goes through in ``smsgw run``
up to the acknowledgement: the listener and the sans-IO session, the intake
(submission read, numbering plan, account TPS bucket, price per segment),
and the store's group-commit writer (message, segment, charge in the ledger;
SQLite WAL with synchronous=FULL) — submit_sm_resp only after the commit.
Left out: policies (``PassAll``), carrier links and the dispatcher (messages
stay queued), the web and manhole.  One enterprise account ``bench`` with
room for every bind, a TPS cap far above the machine, a price and a balance
for millions of segments.

Prints ``SMPP 127.0.0.1:PORT`` when ready; stops (committing what is queued)
on SIGTERM or SIGINT and then prints the writer's figures as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from twisted.internet import defer, reactor
from twisted.python.threadpool import ThreadPool

from smsgw.domain.ids import IdGenerator
from smsgw.domain.model import YUAN
from smsgw.net.smpp_listener import SmppServerFactory
from smsgw.pipeline.intake import Intake, IntakeConfig
from smsgw.pipeline.notifier import Notifier
from smsgw.pipeline.storage import StoreClient
from smsgw.routing.numbering import load_plan
from smsgw.store import migrate
from smsgw.store.db import sqlite_url
from smsgw.store.startup import open_store

ROOT = Path(__file__).resolve().parents[2]
LOGIN, PASSWORD = "bench", "benchpw"  # SMPP passwords are at most 8 characters
PRICE = 4_000  # milli-fen per segment, the demo's 0.04 yuan


def now_ms() -> int:
    return int(time.time() * 1000)


@defer.inlineCallbacks
def start(data_dir: str, binds: int) -> Any:
    url = sqlite_url(data_dir)
    migrate.upgrade(url)
    opened = open_store(url, notify=reactor.callFromThread, now=now_ms())
    readers = ThreadPool(minthreads=1, maxthreads=4, name="bench-readers")
    readers.start()
    store = StoreClient(opened.writer, reactor, readers)
    account = yield store.create_account(LOGIN, PASSWORD, now_ms(), "bench", tps=10_000_000, max_binds=binds)
    yield store.recharge(account.id, 10**8 * YUAN, now_ms(), "bench")
    yield store.set_price(account.id, PRICE, now_ms(), "bench")
    ids = IdGenerator(clock=now_ms, node=1, floor=opened.id_floor)
    notifier = Notifier(store, reactor)
    intake = Intake(store, ids, reactor, load_plan(ROOT / "config" / "numbering.toml"), notifier,
                    config=IntakeConfig())
    factory = SmppServerFactory(intake, reactor)
    port = reactor.listenTCP(0, factory, interface="127.0.0.1", backlog=binds + 16)

    @defer.inlineCallbacks
    def stop() -> Any:
        notifier.stop()
        yield port.stopListening()
        for conn in list(factory.connections):
            conn.transport.abortConnection()
        yield store.stop()
        readers.stop()
        opened.engine.dispose()
        print(json.dumps({"writer": _writer_figures(opened.writer)}), flush=True)

    reactor.addSystemEventTrigger("before", "shutdown", stop)
    print(f"SMPP 127.0.0.1:{port.getHost().port}", flush=True)


def _writer_figures(writer: Any) -> dict[str, Any]:
    """The writer's counters (``store.writer.WriterStats``): batches, operations, commit time."""
    stats = writer.stats
    figures = {name: getattr(stats, name) for name in ("batches", "operations", "failed", "largest_batch",
                                                       "commit_seconds", "retries") if hasattr(stats, name)}
    if figures.get("batches"):
        figures["mean_batch"] = round(figures["operations"] / figures["batches"], 1)
    return figures


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data_dir")
    p.add_argument("--binds", type=int, default=64, help="how many binds the bench account may hold")
    args = p.parse_args(argv)
    failed: list[Any] = []

    def go() -> None:
        d = start(args.data_dir, args.binds)
        d.addErrback(lambda f: (failed.append(f), print(f.getTraceback(), file=sys.stderr), reactor.stop()))

    reactor.callWhenRunning(go)
    reactor.run()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
