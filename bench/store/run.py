"""bench/store: accepted messages committed per second, SQLite and PostgreSQL.

    .venv/bin/python bench/store/run.py [--messages N] [--window W] [--pg-url URL] [--json FILE]

Each accept is what the gateway writes before it answers submit_sm: a
``messages`` row, 1-3 ``segments`` rows (60% one part, 30% two, 10% three),
a CHARGE ``ledger`` row and the balance update of its enterprise (30
accounts: 10 enterprises, 20 sub-accounts).  The main thread plays the
reactor: it builds each message, submits it to the real writer, and takes
the answers back through one queue hand-over per batch (``notify``), keeping
at most ``--window`` accepts in flight (the sum of the clients' windows).

A message counts when its answer arrived, i.e. after the commit that made it
durable: SQLite in WAL mode with synchronous=FULL, PostgreSQL with
synchronous_commit=on.  Prints a table and a JSON document.

Two modes: ``end-to-end`` builds each Message while submitting (the
reactor's share of the work competes for the GIL, as in the gateway);
``store`` builds them all before the clock starts (the store alone).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from typing import Any, Callable

import attrs
import psycopg
import sqlalchemy as sa

from smsgw.domain.ids import IdGenerator
from smsgw.domain.model import HOUR_MS, YUAN, Message, Segment
from smsgw.store import migrate
from smsgw.store.accepting import Accept
from smsgw.store.accounts import CreateAccount, Recharge
from smsgw.store.db import create_engine
from smsgw.store.ledger import check_balances
from smsgw.store.passwords import hash_password
from smsgw.store.writer import Writer, call_now

PRICE = 3_500  # 0.035 元 per segment
SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
TEXT = "【示例科技】您的验证码是{code}，5分钟内有效。如非本人操作，请忽略本短信。回复TD退订"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def make_accounts(writer: Writer) -> list[tuple[int, int]]:
    """(account_id, enterprise_id) pairs to send from."""
    password = hash_password("bench-password")
    senders = []
    for e in range(10):
        ent = writer.run_sync(CreateAccount(f"bench{e}", password, now_ms(), "bench"))
        writer.run_sync(Recharge(ent.id, 10**9 * YUAN, now_ms(), "bench"))
        senders.append((ent.id, ent.id))
        for s in range(2):
            sub = writer.run_sync(CreateAccount(f"bench{e}s{s}", password, now_ms(), "bench", parent_id=ent.id))
            senders.append((sub.id, ent.id))
    return senders


@attrs.frozen
class Template:
    """A message body as the splitter makes it: text and its UCS2 parts with UDH."""

    text: str
    segments: tuple[Segment, ...]

    @property
    def parts(self) -> int:
        return len(self.segments)


def make_templates(rng: random.Random, count: int = 600) -> list[Template]:
    """Distinct bodies: 60% one part, 30% two, 10% three."""
    templates = []
    for index in range(count):
        parts = 1 if index % 10 < 6 else 2 if index % 10 < 9 else 3
        text = (TEXT.format(code=rng.randrange(100000, 999999)) * 3)[: 70 if parts == 1 else 67 * parts]
        encoded = text.encode("utf-16-be")
        if parts == 1:
            segments: tuple[Segment, ...] = (Segment(1, encoded),)
        else:
            ref = rng.randrange(256)
            segments = tuple(
                Segment(seq, bytes((5, 0, 3, ref, parts, seq)) + encoded[(seq - 1) * 134 : seq * 134], 0x40)
                for seq in range(1, parts + 1)
            )
        templates.append(Template(text, segments))
    return templates


def make_accept(ids: IdGenerator, rng: random.Random, senders: list[tuple[int, int]], templates: list[Template]) -> Accept:
    """What the reactor builds per submit_sm: a new message around a body."""
    account_id, enterprise_id = senders[rng.randrange(len(senders))]
    body = templates[rng.randrange(len(templates))]
    now = now_ms()
    message = Message(
        id=ids.next(), account_id=account_id, enterprise_id=enterprise_id, source_addr="10690000123401",
        dest_addr=f"1{rng.randrange(3 * 10**9, 9 * 10**9)}", created_at=now, expires_at=now + 48 * HOUR_MS,
        parts=body.parts, text=body.text, data_coding=8, registered_delivery=1, carrier="cmcc",
        charge=PRICE * body.parts,
    )  # fmt: skip
    return Accept(message, body.segments)


def run_one(url: str, messages: int, window: int, max_batch: int, prebuilt: bool) -> dict[str, Any]:
    """``prebuilt``: build every message before the clock starts (the store
    alone); otherwise the "reactor" builds each one as it submits it."""
    migrate.upgrade(url)
    engine = create_engine(url)
    setup = Writer(engine, notify=call_now)
    setup.start()
    senders = make_accounts(setup)
    setup.stop()
    answers: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
    writer = Writer(engine, notify=answers.put, max_batch=max_batch)
    writer.start()
    ids = IdGenerator(now_ms, node=1)
    rng = random.Random(42)
    templates = make_templates(rng)
    ready = [make_accept(ids, rng, senders, templates) for _ in range(messages)] if prebuilt else []
    latencies: list[float] = []
    state = {"in_flight": 0, "acked": 0, "segments": 0, "errors": 0}

    def answer_for(started: float, parts: int) -> Callable[[Any, BaseException | None], None]:
        def done(result: Any, error: BaseException | None) -> None:
            state["in_flight"] -= 1
            if error is not None:
                state["errors"] += 1
                return
            state["acked"] += 1
            state["segments"] += parts
            latencies.append(time.perf_counter() - started)

        return done

    batches_before = writer.stats.batches
    submitted = 0
    cpu_started = time.process_time()
    started = time.perf_counter()
    while state["acked"] + state["errors"] < messages:
        while state["in_flight"] < window and submitted < messages:
            op = ready[submitted] if prebuilt else make_accept(ids, rng, senders, templates)
            writer.submit(op, answer_for(time.perf_counter(), op.message.parts))
            state["in_flight"] += 1
            submitted += 1
        answers.get()()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    batches = writer.stats.batches - batches_before
    writer.stop()
    with engine.connect() as conn:
        consistent = check_balances(conn) == []
        if engine.dialect.name == "sqlite":
            durability = {
                "journal_mode": conn.exec_driver_sql("PRAGMA journal_mode").scalar(),
                "synchronous": SYNCHRONOUS[conn.exec_driver_sql("PRAGMA synchronous").scalar()],
            }
        else:
            durability = {
                "synchronous_commit": conn.exec_driver_sql("SHOW synchronous_commit").scalar(),
                "fsync": conn.exec_driver_sql("SHOW fsync").scalar(),
                "server": conn.exec_driver_sql("SHOW server_version").scalar(),
            }
    engine.dispose()
    latencies.sort()
    return {
        "backend": engine.dialect.name,
        "mode": "store" if prebuilt else "end-to-end",
        "messages": state["acked"],
        "errors": state["errors"],
        "segments": state["segments"],
        "seconds": round(elapsed, 3),
        "messages_per_second": round(state["acked"] / elapsed),
        "segments_per_second": round(state["segments"] / elapsed),
        # CPU of this process (both threads; not the PostgreSQL server's):
        # what a message costs the gateway, whatever else the machine runs
        "cpu_seconds": round(cpu, 3),
        "messages_per_cpu_second": round(state["acked"] / cpu),
        "batches": batches,
        "mean_batch": round(state["acked"] / max(batches, 1), 1),
        "ack_latency_ms_p50": round(statistics.median(latencies) * 1000, 2),
        "ack_latency_ms_p99": round(latencies[int(len(latencies) * 0.99)] * 1000, 2),
        "window": window,
        "balances_equal_ledger": consistent,
        "durability": durability,
    }


def pg_server(url: str | None) -> str:
    url = url or os.environ.get("SMSGW_BENCH_PG_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
    return url


def with_pg_database(server: str, fn: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    name = f"smsgw_bench_{uuid.uuid4().hex[:8]}"
    conninfo = sa.make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        return fn(sa.make_url(server).set(database=name).render_as_string(hide_password=False))
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--pg-messages", type=int, default=None, help="default: same as --messages")
    parser.add_argument("--window", type=int, default=5_000, help="accepts in flight")
    parser.add_argument("--max-batch", type=int, default=2_000)
    parser.add_argument("--data-dir", default=None, help="where the SQLite file goes (default: a temp dir)")
    parser.add_argument("--pg-url", default=None, help="a PostgreSQL server (default: SMSGW_BENCH_PG_URL or 127.0.0.1)")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--mode", choices=("both", "end-to-end", "store"), default="both",
                        help="end-to-end: messages built while submitting; store: built beforehand")  # fmt: skip
    parser.add_argument("--json", default=None, help="also write the JSON to this file")
    args = parser.parse_args(argv)

    load = [round(x, 2) for x in os.getloadavg()]
    results = []
    modes = {"both": (False, True), "end-to-end": (False,), "store": (True,)}[args.mode]
    for prebuilt in modes:
        with tempfile.TemporaryDirectory(dir=args.data_dir) as tmp:
            results.append(run_one(f"sqlite:///{tmp}/bench.db", args.messages, args.window, args.max_batch, prebuilt))
        if not args.skip_postgres:
            count = args.pg_messages or args.messages
            results.append(
                with_pg_database(
                    pg_server(args.pg_url), lambda url: run_one(url, count, args.window, args.max_batch, prebuilt)
                )
            )

    report = {
        "bench": "store", "cpus": os.cpu_count(), "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version, "load_average_at_start": load, "results": results,
    }  # fmt: skip
    print(f"load average at start: {load} on {os.cpu_count()} CPUs")
    print(f"{'backend':<11}{'mode':<11}{'messages':>9}{'msg/s':>8}{'seg/s':>8}{'msg/cpu-s':>10}"
          f"{'batches':>8}{'mean':>7}{'p50 ms':>8}{'p99 ms':>8}")  # fmt: skip
    for r in results:
        print(
            f"{r['backend']:<11}{r['mode']:<11}{r['messages']:>9}{r['messages_per_second']:>8}"
            f"{r['segments_per_second']:>8}{r['messages_per_cpu_second']:>10}{r['batches']:>8}{r['mean_batch']:>7}"
            f"{r['ack_latency_ms_p50']:>8}{r['ack_latency_ms_p99']:>8}"
        )
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w") as fh:
            fh.write(text + "\n")
    return 0 if all(r["errors"] == 0 and r["balances_equal_ledger"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
