"""The process test_crash.py kills with SIGKILL: it accepts messages until it dies.

``python -m tests.store.crash_child URL ENTERPRISE_ID``

It first accepts a few long messages and claims their segments (``sending``),
printing ``CLAIMED <n>`` after that commit; then it accepts messages through
the real writer as fast as it can, printing ``ACK <id>`` for each one only
when the writer's answer — which comes after the commit — arrives.

After ``STALL_AFTER`` acknowledgements it also submits a ``Stall`` operation:
inside the writer's transaction it writes an audit row, prints ``STALL`` and
blocks, so that the parent's SIGKILL lands in the middle of a batch for sure.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from typing import Any, Callable

from smsgw.domain.ids import IdGenerator
from smsgw.domain.model import HOUR_MS, Message, Segment
from smsgw.store.accepting import Accept
from smsgw.store.audit import audit
from smsgw.store.db import create_engine
from smsgw.store.dispatching import ClaimDue
from smsgw.store.queries import max_message_id
from smsgw.store.tx import Tx
from smsgw.store.writer import Writer

PRICE = 4_000
IN_FLIGHT = 2_000
STALL_AFTER = 3_000


class Stall:
    def run(self, tx: Tx) -> None:
        audit(tx, clock(), "crash-test", "crash.marker", None)
        sys.stdout.write("STALL\n")
        sys.stdout.flush()
        threading.Event().wait()


def clock() -> int:
    return time.time_ns() // 1_000_000


def accept_op(ids: IdGenerator, enterprise_id: int, parts: int) -> Accept:
    now = clock()
    mid = ids.next()
    message = Message(
        id=mid, account_id=enterprise_id, enterprise_id=enterprise_id, source_addr="1069000012",
        dest_addr="13800138000", created_at=now, expires_at=now + 48 * HOUR_MS, parts=parts,
        text="crash test", data_coding=8, registered_delivery=1, carrier="cmcc", charge=PRICE * parts,
    )  # fmt: skip
    return Accept(message, tuple(Segment(seq, b"payload %d" % seq) for seq in range(1, parts + 1)))


def main(url: str, enterprise_id: int) -> None:
    engine = create_engine(url)
    with engine.connect() as conn:
        ids = IdGenerator(clock, node=7, floor=max_message_id(conn))
    answers: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
    writer = Writer(engine, notify=answers.put)
    writer.start()
    out = sys.stdout

    def wait_one() -> None:
        answers.get()()
        out.flush()

    box: list[Any] = []
    for _ in range(10):
        writer.submit(accept_op(ids, enterprise_id, 2), lambda result, error: box.append(error))
    writer.submit(ClaimDue(clock() + 1000, 20), lambda result, error: box.append(result))
    while len(box) < 11:
        wait_one()
    assert box[:10] == [None] * 10, box
    out.write(f"CLAIMED {len(box[10])}\n")
    out.flush()

    in_flight = 0
    acked = 0

    def done(result: Any, error: BaseException | None) -> None:
        nonlocal in_flight, acked
        in_flight -= 1
        if error is None:
            acked += 1
            out.write(f"ACK {result.message_id}\n")
        else:
            out.write(f"ERROR {error!r}\n")

    stalled = False
    while True:
        if acked >= STALL_AFTER and not stalled:
            for _ in range(100):  # accepts in the same batch as the stall, never committed
                writer.submit(accept_op(ids, enterprise_id, 1), done)
            writer.submit(Stall(), lambda result, error: None)
            stalled = True
        while in_flight < IN_FLIGHT:
            writer.submit(accept_op(ids, enterprise_id, 1 + in_flight % 3), done)
            in_flight += 1
        wait_one()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
