"""How the manhole shows things: plain text an administrator reads on a terminal.

Every helper answers with ``Text`` (a ``str`` whose repr is itself, so the
interpreter prints it as it is).  Money is shown in yuan, times in the
gateway's local time, phone numbers of password notices masked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

from smsgw.domain import ids
from smsgw.domain.model import YUAN, Account, LedgerEntry, Message, MessageEvent, MessageState
from smsgw.policy.china_time import format_hhmm


class Text(str):
    """Text the manhole prints as it is (no quotes, real line breaks)."""

    def __repr__(self) -> str:
        return str(self)


def yuan(amount: int) -> str:
    """milli-fen as yuan: two decimals, more when a price needs them (0.035)."""
    text = f"{amount / YUAN:.5f}".rstrip("0")
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Text:
    """Columns padded to their widest cell; '(none)' for no rows."""
    cells = [[str(h) for h in headers]] + [["-" if c is None else str(c) for c in row] for row in rows]
    if len(cells) == 1:
        return Text("(none)")
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return Text("\n".join(lines))


def account(acc: Account, subs: Sequence[Account] = (), enterprise: Account | None = None) -> Text:
    kind = "enterprise" if acc.is_enterprise else f"sub-account of {enterprise.login if enterprise else acc.parent_id}"
    lines = [
        f"{acc.login} (id {acc.id}): {kind}, {acc.status.value}",
        f"  name            {acc.name or '-'}",
        f"  reserved phone  {acc.reserved_phone or '-'}",
        f"  extension       {acc.extension or '-'}",
        f"  binds, tps      {acc.max_binds}, {acc.tps}",
        f"  long MO         {'reassembled' if acc.reassemble_mo else 'in parts'}",
        f"  allowed ips     {', '.join(acc.allowed_ips) or 'any'}",
    ]
    if acc.is_enterprise:
        lines.append(f"  balance         {yuan(acc.balance)} yuan (credit limit {yuan(acc.credit_limit)})")
        if acc.low_balance_threshold is not None:
            lines.append(f"  low balance at  {yuan(acc.low_balance_threshold)} yuan")
    elif acc.quota_left is not None:
        lines.append(f"  quota left      {yuan(acc.quota_left)} yuan")
    if subs:
        lines.append("  sub-accounts    " + ", ".join(f"{s.login} ({s.status.value})" for s in subs))
    return Text("\n".join(lines))


def accounts(rows: Sequence[Account]) -> Text:
    return table(("id", "login", "name", "status", "balance"),
                 ((a.id, a.login, a.name, a.status.value, yuan(a.balance) if a.is_enterprise else "")
                  for a in rows))


def ledger(rows: Sequence[LedgerEntry]) -> Text:
    return table(("id", "at", "kind", "amount", "message", "actor", "note"),
                 ((e.id, when(e.at), e.kind.value, yuan(e.amount),
                   ids.to_text(e.message_id) if e.message_id else None, e.actor, e.note) for e in rows))


def message(msg: Message, history: Sequence[MessageEvent], segments: Sequence[Any]) -> Text:
    """One message with its history and its parts (``queries.SegmentView``)."""
    held = f" ({msg.hold_reason.value})" if msg.hold_reason and msg.state is MessageState.HELD else ""
    lines = [
        f"message {ids.to_text(msg.id)} ({msg.id}): {msg.state.value}{held}"
        + (f" - {msg.reason}" if msg.reason else ""),
        f"  account {msg.account_id} (enterprise {msg.enterprise_id}), {msg.source_addr or '-'} -> {msg.dest_addr}"
        f" [{msg.carrier or '?'}], {msg.parts} part(s), charge {yuan(msg.charge)} yuan",
        f"  text     {msg.text if msg.text is not None else '-'}",
        f"  created  {when(msg.created_at)}, expires {when(msg.expires_at)}, final {when(msg.final_at)}",
        "  history:",
    ]
    for ev in history:
        part = f" part {ev.seq}" if ev.seq else ""
        src = ev.from_state.value if ev.from_state else "-"
        why = f" ({ev.reason})" if ev.reason else ""
        lines.append(f"    {when(ev.at)}{part} {src} -> {ev.to_state.value}{why}")
    for seg in segments:
        stat = f"{seg.stat or '-'} {seg.err or ''}".rstrip()
        lines.append(f"  part {seg.segment.seq}: {seg.segment.state.value}, link {seg.link or '-'}, carrier id "
                     f"{seg.carrier_msg_id or '-'}, attempts {seg.attempts}, stat {stat}")
    return Text("\n".join(lines))


def messages(rows: Sequence[Message]) -> Text:
    return table(("id", "created", "account", "to", "state", "parts", "text"),
                 ((ids.to_text(m.id), when(m.created_at), m.account_id, m.dest_addr, m.state.value, m.parts,
                   (m.text or "")[:30]) for m in rows))


def links(groups: Iterable[tuple[Any, bool]]) -> Text:
    """(``LinkGroupState``, whether it can take segments now) of each link group."""
    def status(s: Any, available: bool) -> str:
        if s.suspended:
            return "suspended"
        if s.stopping:
            return "stopping"
        if s.up:
            return "up (throttled)" if s.throttled else "up"
        return "ready (connects on demand)" if available else "down"

    return table(("link", "protocol", "status", "conns", "connecting", "in flight", "queued", "tps", "last error"),
                 ((s.name, s.protocol, status(s, available), s.connections, s.connecting, s.in_flight, s.queued,
                   f"{s.tps:g}", s.last_error) for s, available in groups))


def reviews(rows: Sequence[Any]) -> Text:
    return table(("message", "enterprise", "since", "to", "reason", "text"),
                 ((ids.to_text(r.message_id), r.enterprise_id, when(r.created_at), r.dest_addr, r.reason,
                   (r.text or "")[:40]) for r in rows))


def signatures(rows: Sequence[Any]) -> Text:
    return table(("id", "enterprise", "text", "status", "created", "decided by"),
                 ((s.id, s.enterprise_id, s.text, s.status.value, when(s.created_at), s.decided_by) for s in rows))


def audit(rows: Sequence[Any]) -> Text:
    return table(("id", "at", "actor", "action", "target", "detail"),
                 ((e.id, when(e.at), e.actor, e.action, e.target,
                   ", ".join(f"{k}={v}" for k, v in sorted((e.detail or {}).items()) if v is not None))
                  for e in rows))


def counters(groups: Mapping[str, Mapping[str, Any]]) -> Text:
    lines = []
    for name, values in groups.items():
        lines.append(f"{name}: " + ", ".join(f"{k}={v}" for k, v in values.items()))
    return Text("\n".join(lines))


def account_policy(login: str, own: Mapping[str, Any] | None, rules: Any | None) -> Text:
    """An account's own rules set at run time, and (when the policy service runs) what applies."""
    lines = [f"{login}: own rules " + (", ".join(f"{k}={v!r}" for k, v in sorted(own.items())) if own else "none")]
    if rules is not None:
        w = rules.window
        lines += [
            "  in force:",
            f"    send window     {format_hhmm(w.open)}-{format_hhmm(w.close)}, held ones released"
            f" {format_hhmm(w.release)} (China time)",
            f"    duplicates      {rules.duplicates.value}",
            f"    range run       {rules.range_run or 'off'}",
            f"    per number      {rules.per_minute}/min {rules.per_hour}/h {rules.per_day}/day (0: no limit)",
            f"    refunded when   {', '.join(sorted(s.value for s in rules.refund)) or 'never'}",
        ]
    return Text("\n".join(lines))
