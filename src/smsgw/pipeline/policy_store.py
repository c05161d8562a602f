"""The policy indexes' side of the store: what is read to build them, what is written for them.

Reads (run on a reader thread through ``StoreClient.read``) return finished
in-memory indexes, so that building a large blacklist or keyword automaton
does not run on the reactor.  ``changes_since`` reads the audit log, which
every administrative change writes in its own transaction: it is how changes
made by another node, the CLI or the manhole reach this node's indexes
between full reloads.

Operations (run by the writer): a review approval that waits for the send
window, and the window hold of messages the dispatcher claimed after their
window closed — each in one transaction.  (The failure receipt of a message
refused after acknowledgement is written by the accept itself, through the
store's ``Rules.refusal_receipts``.)
"""

from __future__ import annotations

import json
from typing import Any

import attrs
import sqlalchemy as sa

from twisted.logger import Logger

from smsgw.domain.model import AccountStatus, HoldReason, MessageState
from smsgw.policy.accounts import AccountInfo
from smsgw.policy.blacklist import BlacklistIndex
from smsgw.policy.content import KeywordIndex
from smsgw.policy.settings import AccountPolicy, PolicySettings
from smsgw.policy.signature import SignatureBook
from smsgw.store import schema
from smsgw.store.account_policy import account_policies
from smsgw.store.dispatching import Hold
from smsgw.store.lifecycle import segments_of
from smsgw.store.lists import iter_blacklist
from smsgw.store.review import ReviewDecision
from smsgw.store.tx import Tx

log = Logger(namespace="smsgw.pipeline.policy_store")
S = MessageState

#: the keyword list whose words are unsubscribe replies, not prohibited content
UNSUBSCRIBE_LIST = "unsubscribe"


@attrs.frozen
class Snapshot:
    """Everything the chain's indexes are built from, read at one time."""

    audit_id: int
    accounts: list[AccountInfo]
    blacklist: BlacklistIndex
    keywords: KeywordIndex
    signatures: SignatureBook
    unsubscribe: list[tuple[int, str]]
    #: per-account overrides set at run time (login → policy)
    overrides: dict[str, AccountPolicy] = attrs.field(factory=dict)


def last_audit_id(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(schema.audit_log.c.id), 0))).scalar_one())


def load_accounts(conn: sa.Connection) -> list[AccountInfo]:
    a = schema.accounts
    rows = conn.execute(sa.select(a.c.id, a.c.login, a.c.parent_id, a.c.status, a.c.reserved_phone,
                                  a.c.low_balance_threshold))  # fmt: skip
    return [AccountInfo(row.id, row.login, row.parent_id, AccountStatus(row.status), row.reserved_phone,
                        row.low_balance_threshold) for row in rows]  # fmt: skip


def load_keywords(conn: sa.Connection, settings: PolicySettings) -> tuple[KeywordIndex, list[tuple[int, str]]]:
    k = schema.keywords
    content: list[tuple[int, str, str]] = []
    unsubscribe: list[tuple[int, str]] = []
    for row in conn.execute(sa.select(k.c.list, k.c.scope_id, k.c.word)):
        if row.list == UNSUBSCRIBE_LIST:
            unsubscribe.append((row.scope_id, row.word))
        else:
            content.append((row.scope_id, row.list, row.word))
    index = KeywordIndex(content, actions=settings.content.actions, default_action=settings.content.default_action)
    return index, unsubscribe


def load_signatures(conn: sa.Connection) -> SignatureBook:
    sg = schema.signatures
    rows = conn.execute(
        sa.select(sg.c.enterprise_id, sg.c.text).where(sg.c.status == "verified").order_by(sg.c.id)
    )
    return SignatureBook((row.enterprise_id, row.text) for row in rows)


def signature_id(conn: sa.Connection, enterprise_id: int, text: str) -> int | None:
    """The id of an enterprise's signature with exactly this text, whatever its status."""
    sg = schema.signatures
    row = conn.execute(sa.select(sg.c.id).where(sg.c.enterprise_id == enterprise_id, sg.c.text == text)).first()
    return None if row is None else int(row.id)


def load_overrides(conn: sa.Connection) -> dict[str, AccountPolicy]:
    """The per-account overrides kept in the store; one that no longer reads (a key or value
    this version does not know) is left out with a warning rather than failing the load."""
    found = {}
    for login, values in account_policies(conn).items():
        try:
            found[login] = AccountPolicy.from_changes(values)
        except (TypeError, ValueError) as bad:
            log.warn("stored policy of {login} ignored: {why}", login=login, why=str(bad))
    return found


def load_snapshot(conn: sa.Connection, settings: PolicySettings) -> Snapshot:
    audit_id = last_audit_id(conn)  # first: a change during the load is seen again, not missed
    keywords, unsubscribe = load_keywords(conn, settings)
    return Snapshot(audit_id, load_accounts(conn), BlacklistIndex(iter_blacklist(conn)), keywords,
                    load_signatures(conn), unsubscribe, load_overrides(conn))  # fmt: skip


@attrs.frozen
class Change:
    id: int
    action: str
    target: str | None
    detail: dict[str, Any]


WATCHED = ("blacklist.", "keyword.", "signature.", "account.", "policy.")


def changes_since(conn: sa.Connection, after_id: int, limit: int = 1000) -> list[Change]:
    """Administrative changes to what the policies hold, after audit row ``after_id``."""
    t = schema.audit_log
    rows = conn.execute(
        sa.select(t.c.id, t.c.action, t.c.target, t.c.detail).where(t.c.id > after_id).order_by(t.c.id).limit(limit)
    )
    found = []
    for row in rows:
        if row.action.startswith(WATCHED):
            found.append(Change(row.id, row.action, row.target, json.loads(row.detail) if row.detail else {}))
        else:
            found.append(Change(row.id, "", None, {}))  # keeps the position moving
    return found


@attrs.frozen
class ApproveForWindow:
    """Approve a message held for review while its send window is closed: it waits,
    held for the window, until ``until`` (one transaction, so no link can take it between)."""

    message_id: int
    at: int
    actor: str
    until: int
    note: str | None = None

    def run(self, tx: Tx) -> MessageState:
        ReviewDecision(self.message_id, True, self.at, self.actor, self.note).run(tx)
        note = "window: approved, waits for the send window"
        Hold(self.message_id, HoldReason.WINDOW, self.at, self.until, note).run(tx)
        return MessageState.HELD


@attrs.frozen
class HoldForWindow:
    """Messages the dispatcher claimed after their send window closed go back to held(window),
    released at ``until[message id]`` with the others (DESIGN.md §4: sending → queued → held).

    A message is held only when none of its parts is elsewhere: every part is queued, or
    sending in ``claimed`` (this claim).  A long message one of whose parts already went
    out, or is in a link's hands, is sent whole instead.  Answers the ids held."""

    claimed: tuple[tuple[int, int], ...]
    until: tuple[tuple[int, int], ...]  # (message id, release time)
    at: int
    note: str

    def run(self, tx: Tx) -> list[int]:
        m, s = schema.messages, schema.segments
        release = dict(self.until)
        claimed = set(self.claimed)
        mids = sorted(release)
        states = {row.id: (row.state, row.reason) for row in tx.conn.execute(
            sa.select(m.c.id, m.c.state, m.c.reason).where(m.c.id.in_(mids)).with_for_update())}
        parts = segments_of(tx, mids, lock=True)
        held = []
        for mid in mids:
            state, reason = states.get(mid, (None, None))
            segs = parts.get(mid, [])
            if state not in (S.QUEUED.value, S.SENDING.value) or not segs or not all(
                seg.state == S.QUEUED.value or (seg.state == S.SENDING.value and (mid, seg.seq) in claimed)
                for seg in segs
            ):
                continue
            tx.conn.execute(sa.update(s).where(s.c.message_id == mid).values(state=S.HELD.value, due_at=None))
            tx.conn.execute(sa.update(m).where(m.c.id == mid).values(
                state=S.HELD.value, hold_reason=HoldReason.WINDOW.value, due_at=release[mid],
                reason=reason or self.note))
            if len(segs) > 1:
                for seg in segs:
                    if seg.state == S.SENDING.value:
                        tx.event(mid, self.at, S.SENDING, S.QUEUED, self.note, seq=seg.seq)
            if state == S.SENDING.value:
                tx.event(mid, self.at, S.SENDING, S.QUEUED, self.note)
            tx.event(mid, self.at, S.QUEUED, S.HELD, self.note)
            held.append(mid)
        return held
