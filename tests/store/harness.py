"""A store on one backend for a test: engine, writer, a clock, and builders.

``Harness.check_invariants`` runs after every test that uses the ``store``
fixture: balances equal their ledgers, and every message's recorded history
is a chain of transitions the state machine allows, ending in its current
state (for the message and for each part of a long message).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from typing import Any, Iterator

import attrs
import sqlalchemy as sa
from argon2 import PasswordHasher

from smsgw.domain.ids import IdGenerator
from smsgw.domain.model import (
    FINAL_STATES,
    HOUR_MS,
    YUAN,
    Account,
    HoldReason,
    Message,
    MessageState,
    Segment,
    combine_part_states,
)
from smsgw.pipeline.states import PART_TRANSITIONS, TRANSITIONS
from smsgw.store import migrate, schema
from smsgw.store.accepting import Accept, AcceptResult
from smsgw.store.accounts import CreateAccount, Recharge
from smsgw.store.db import create_engine
from smsgw.store.ledger import check_balances
from smsgw.store.passwords import hash_password
from smsgw.store.tx import Rules
from smsgw.store.writer import Writer, call_now

S = MessageState
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
PRICE = 4_000  # milli-fen per segment: 4 分
DEST = "13800138000"


@attrs.define
class Clock:
    now: int = T0

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> int:
        self.now += ms
        return self.now


def all_tables() -> list[str]:
    return [table.name for table in reversed(schema.metadata.sorted_tables)]


def reset_postgres(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {', '.join(all_tables())} RESTART IDENTITY CASCADE")
    finally:
        engine.dispose()


def sqlite_copy(template: str, directory: str) -> str:
    path = os.path.join(directory, "smsgw.db")
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


def make_template(directory: str) -> str:
    path = os.path.join(directory, "template.db")
    migrate.upgrade(f"sqlite:///{path}")
    return path


class Harness:
    def __init__(self, backend: str, url: str, rules: Rules = Rules(), **writer_options: Any) -> None:
        self.backend = backend
        self.url = url
        self.clock = Clock()
        self.ids = IdGenerator(self.clock, node=1)
        self.engine = create_engine(url)
        self.rules = rules
        writer_options.setdefault("retry_for", 2.0)
        self._writer_options = writer_options
        self.writer = Writer(self.engine, notify=call_now, rules=rules, **writer_options)
        self.check_at_end = True
        self._logins = 0

    def start(self) -> Harness:
        self.writer.start()
        return self

    def start_new_writer(self) -> None:
        """After a simulated crash: the old writer is gone, a new one starts."""
        self.writer.stop(timeout=30)
        self.writer = Writer(self.engine, notify=call_now, rules=self.rules, **self._writer_options)
        self.writer.start()

    def close(self) -> None:
        self.writer.stop(timeout=30)
        self.engine.dispose()

    def run(self, op: Any) -> Any:
        return self.writer.run_sync(op, timeout=30)

    @contextlib.contextmanager
    def conn(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn:
            yield conn

    def scalar(self, query: Any) -> Any:
        with self.conn() as conn:
            return conn.execute(query).scalar()

    def rows(self, query: Any) -> list[Any]:
        with self.conn() as conn:
            return list(conn.execute(query).all())

    # -- builders --------------------------------------------------------------

    def enterprise(self, balance: int = 100 * YUAN, **fields: Any) -> Account:
        self._logins += 1
        account = self.run(
            CreateAccount(f"ent{self._logins}", hash_password("secret", CHEAP_HASHER), self.clock.now, "test", **fields)
        )
        if balance:
            self.run(Recharge(account.id, balance, self.clock.now, "test"))
        return account  # type: ignore[no-any-return]

    def sub_account(self, parent: Account, **fields: Any) -> Account:
        self._logins += 1
        return self.run(  # type: ignore[no-any-return]
            CreateAccount(
                f"sub{self._logins}", hash_password("secret", CHEAP_HASHER), self.clock.now, "test",
                parent_id=parent.id, **fields,
            )  # fmt: skip
        )

    def message(
        self,
        account: Account,
        parts: int = 1,
        state: MessageState = S.QUEUED,
        price: int = PRICE,
        registered_delivery: int = 1,
        expires_at: int | None = None,
        hold_reason: HoldReason | None = None,
        due_at: int | None = None,
        reason: str | None = None,
        message_id: int | None = None,
        carrier: str | None = "cmcc",
        dest: str = DEST,
    ) -> Accept:
        now = self.clock.now
        mid = message_id if message_id is not None else self.ids.next()
        segments = tuple(
            Segment(seq, (b"\x05\x00\x03\x2a%c%c" % (parts, seq) if parts > 1 else b"") + "测试".encode("utf-16-be"),
                    0x40 if parts > 1 else 0)
            for seq in range(1, parts + 1)
        )  # fmt: skip
        message = Message(
            id=mid, account_id=account.id, enterprise_id=account.enterprise_id, source_addr="1069000012",
            dest_addr=dest, created_at=now, expires_at=expires_at if expires_at is not None else now + 48 * HOUR_MS,
            parts=parts, text="【测试】验证码 123456", data_coding=8, registered_delivery=registered_delivery,
            carrier=carrier, state=state, hold_reason=hold_reason, reason=reason, due_at=due_at, charge=price * parts,
        )  # fmt: skip
        return Accept(message, segments)

    def accept(self, account: Account, **kwargs: Any) -> Message:
        op = self.message(account, **kwargs)
        result: AcceptResult = self.run(op)
        assert result.message_id == op.message.id
        return op.message

    # -- reads -----------------------------------------------------------------

    def state(self, message_id: int) -> MessageState:
        m = schema.messages
        return S(self.scalar(sa.select(m.c.state).where(m.c.id == message_id)))

    def part_states(self, message_id: int) -> list[MessageState]:
        s = schema.segments
        rows = self.rows(sa.select(s.c.state).where(s.c.message_id == message_id).order_by(s.c.seq))
        return [S(row.state) for row in rows]

    def balance(self, account_id: int) -> int:
        a = schema.accounts
        return int(self.scalar(sa.select(a.c.balance).where(a.c.id == account_id)))

    def outbox(self, account_id: int | None = None) -> list[Any]:
        o = schema.outbox
        query = sa.select(o).order_by(o.c.id)
        if account_id is not None:
            query = query.where(o.c.account_id == account_id)
        return self.rows(query)

    def ledger(self, enterprise_id: int) -> list[Any]:
        led = schema.ledger
        return self.rows(sa.select(led).where(led.c.enterprise_id == enterprise_id).order_by(led.c.id))

    # -- invariants --------------------------------------------------------------

    def check_invariants(self) -> None:
        with self.conn() as conn:
            assert check_balances(conn) == []
            m, s, e = schema.messages, schema.segments, schema.message_events
            query = sa.select(m.c.id, m.c.state, m.c.first_state, m.c.parts, m.c.final_at)
            messages = {row.id: row for row in conn.execute(query)}
            parts: dict[int, dict[int, str]] = {}
            for row in conn.execute(sa.select(s.c.message_id, s.c.seq, s.c.state)):
                parts.setdefault(row.message_id, {})[row.seq] = row.state
            chains: dict[tuple[int, int], list[Any]] = {}
            for row in conn.execute(sa.select(e).order_by(e.c.id)):
                chains.setdefault((row.message_id, row.seq), []).append(row)
        for mid, row in messages.items():
            states = [S(st) for st in parts.get(mid, {}).values()]
            assert len(states) == row.parts, f"message {mid}: {len(states)} segments for parts={row.parts}"
            current = S(row.state)
            if current in FINAL_STATES:
                assert row.final_at is not None, f"message {mid} ended without final_at"
                combined = combine_part_states(states)
                # all parts refused after the message went out ends it undelivered
                assert combined is current or (combined, current) == (S.REJECTED, S.UNDELIVERED), (
                    f"message {mid} is {current} with parts {states}"
                )
            else:
                assert combine_part_states(states) is None, f"message {mid} is {current} with parts {states}"
            self._check_chain(mid, 0, S(row.first_state), current, chains.get((mid, 0), []), TRANSITIONS)
            if row.parts > 1:
                for seq, st in parts[mid].items():
                    self._check_chain(mid, seq, S(row.first_state), S(st), chains.get((mid, seq), []), PART_TRANSITIONS)
            else:
                assert (mid, 1) not in chains, f"single-part message {mid} has part events"
        unknown = {mid for mid, _ in chains} - set(messages)
        assert not unknown, f"events of unknown messages {unknown}"

    @staticmethod
    def _check_chain(mid: int, seq: int, first: MessageState, last: MessageState, events: list[Any], table: Any) -> None:
        current = first
        for ev in events:
            assert ev.from_state == current.value, f"message {mid}/{seq}: event from {ev.from_state}, was {current}"
            target = S(ev.to_state)
            assert target in table[current], f"message {mid}/{seq}: {current} → {target} is not allowed"
            current = target
        assert current is last, f"message {mid}/{seq}: history ends in {current}, row says {last}"
