"""The gateway's nouns: accounts, messages, segments, reports, MO messages, money.

Plain frozen attrs classes, no behaviour beyond small pure rules that belong to
the nouns themselves (which state a long message ends in, when a message
expires, whether the client asked for a receipt).  DESIGN.md §3-5.

Conventions shared by every layer:

* times are integer milliseconds since the Unix epoch, UTC (``Millis``);
* money is integer milli-fen, 1/1000 of a 分 (``MilliFen``) — SMS prices such as
  0.035 元 are fractions of a fen; never floats;
* states and kinds are ``str`` enums whose values are what the store writes.
"""

from __future__ import annotations

import enum
from typing import Iterable

import attrs

Millis = int
MilliFen = int

HOUR_MS = 3_600_000
DEFAULT_VALIDITY_MS = 48 * HOUR_MS
FEN = 1000  # milli-fen per 分
YUAN = 100 * FEN


class MessageState(str, enum.Enum):
    """DESIGN.md §4.  The allowed transitions are in ``smsgw.pipeline.states``."""

    ACCEPTED = "accepted"
    HELD = "held"
    QUEUED = "queued"
    SENDING = "sending"
    SUBMITTED = "submitted"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    EXPIRED = "expired"
    REJECTED = "rejected"

    @property
    def final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES = frozenset(
    {MessageState.DELIVERED, MessageState.UNDELIVERED, MessageState.EXPIRED, MessageState.REJECTED}
)
# Not yet handed to a carrier for good: what a crash or a dropped link re-queues.
UNSENT_STATES = frozenset({MessageState.HELD, MessageState.QUEUED, MessageState.SENDING})


class HoldReason(str, enum.Enum):
    WINDOW = "window"  # outside the send window; released by time
    REVIEW = "review"  # waits for an administrator's decision


class AccountStatus(str, enum.Enum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    BLACKLISTED = "blacklisted"


class LedgerKind(str, enum.Enum):
    RECHARGE = "recharge"
    CHARGE = "charge"
    REFUND = "refund"
    ADJUSTMENT = "adjustment"


class OutboxKind(str, enum.Enum):
    REPORT = "report"
    MO = "mo"


class SignatureStatus(str, enum.Enum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


@attrs.frozen
class Account:
    """An enterprise account (``parent_id is None``) or one of its sub-accounts.

    The balance belongs to the enterprise; a sub-account spends from it and may
    have its own remaining quota (``quota_left``, None = no limit of its own).
    ``allowed_ips`` holds addresses or CIDR networks; empty means any.
    """

    id: int
    login: str
    name: str = ""
    parent_id: int | None = None
    status: AccountStatus = AccountStatus.ACTIVE
    allowed_ips: tuple[str, ...] = ()
    max_binds: int = 1
    tps: int = 100
    reserved_phone: str | None = None
    extension: str | None = None  # 子号: the service-number extension MO messages arrive on
    default_validity_s: int | None = None
    balance: MilliFen = 0
    credit_limit: MilliFen = 0
    quota_left: MilliFen | None = None
    low_balance_threshold: MilliFen | None = None
    created_at: Millis = 0
    #: long MO (a reply in parts) reaches the clients as one deliver_sm with the whole text, not part by part
    reassemble_mo: bool = False

    @property
    def enterprise_id(self) -> int:
        return self.id if self.parent_id is None else self.parent_id

    @property
    def is_enterprise(self) -> bool:
        return self.parent_id is None


@attrs.frozen
class Segment:
    """One part of a message as stored and as the carrier will get it.

    ``payload`` is the short_message octets including the UDH when there is
    one (``domain.segments.Segment.user_data`` of the split part, whose
    ``number`` is ``seq``); ``esm_class`` then has the UDHI bit (0x40) set.
    """

    seq: int  # 1-based
    payload: bytes
    esm_class: int = 0
    state: MessageState = MessageState.QUEUED


@attrs.frozen
class Message:
    """A client's message as accepted (or rejected) by the gateway.

    ``state`` is the state it is stored in at acceptance: QUEUED, HELD (with
    ``hold_reason``) or REJECTED.  ``charge`` is the total charged for all its
    segments; it becomes a CHARGE ledger row in the same transaction.
    """

    id: int
    account_id: int
    enterprise_id: int
    source_addr: str
    dest_addr: str
    created_at: Millis
    expires_at: Millis
    parts: int
    text: str | None = None
    data_coding: int = 0
    registered_delivery: int = 0
    priority: int = 0
    carrier: str | None = None
    state: MessageState = MessageState.QUEUED
    hold_reason: HoldReason | None = None
    reason: str | None = None
    due_at: Millis | None = None  # queued: not before; held(window): release time
    charge: MilliFen = 0
    final_at: Millis | None = None


@attrs.frozen
class Report:
    """A carrier's status report for one segment, matched by the carrier's id."""

    carrier: str
    carrier_msg_id: str
    state: MessageState  # DELIVERED, UNDELIVERED, EXPIRED or REJECTED
    stat: str  # the carrier's own word, e.g. DELIVRD, UNDELIV, MK:0001
    received_at: Millis
    err: str | None = None
    submit_at: Millis | None = None
    done_at: Millis | None = None


@attrs.frozen
class MoMessage:
    """A mobile-originated message (a reply), addressed to our service number."""

    id: int
    carrier: str
    source_addr: str  # the phone
    dest_addr: str  # our service number plus the account's extension
    content: bytes
    received_at: Millis
    data_coding: int = 0
    esm_class: int = 0
    account_id: int | None = None
    link: str | None = None
    carrier_msg_id: str | None = None


@attrs.frozen
class LedgerEntry:
    enterprise_id: int
    amount: MilliFen  # signed: negative spends
    kind: LedgerKind
    at: Millis
    account_id: int | None = None
    message_id: int | None = None
    actor: str | None = None
    note: str | None = None
    id: int | None = None


@attrs.frozen
class MessageEvent:
    """One transition in a message's history; ``seq`` 0 is the whole message."""

    message_id: int
    at: Millis
    from_state: MessageState | None
    to_state: MessageState
    seq: int = 0
    reason: str | None = None


@attrs.frozen
class OutboxItem:
    """A receipt or MO message waiting for delivery to its account's client."""

    id: int
    account_id: int
    kind: OutboxKind
    ref_id: int  # our message id (REPORT) or MO id (MO)
    source_addr: str
    dest_addr: str
    created_at: Millis
    attempts: int = 0
    state: MessageState | None = None
    stat: str | None = None
    err: str | None = None
    submit_at: Millis | None = None
    done_at: Millis | None = None
    parts: int | None = None
    data_coding: int = 0
    esm_class: int = 0
    content: bytes | None = None


@attrs.frozen
class ClaimedSegment:
    """Everything a carrier link needs to send one segment."""

    message_id: int
    seq: int
    parts: int
    payload: bytes
    esm_class: int
    data_coding: int
    source_addr: str
    dest_addr: str
    account_id: int
    enterprise_id: int
    registered_delivery: int
    priority: int
    carrier: str | None
    attempts: int
    expires_at: Millis


def combine_part_states(states: Iterable[MessageState]) -> MessageState | None:
    """The final state of a long message from its parts, None while one is open.

    All delivered → DELIVERED; all rejected → REJECTED; any part undelivered or
    rejected next to parts that went out → UNDELIVERED; otherwise (some part
    expired, none failed) → EXPIRED.
    """
    seen = set()
    count = 0
    for state in states:
        if state not in FINAL_STATES:
            return None
        seen.add(state)
        count += 1
    if count == 0:
        return None
    if seen == {MessageState.DELIVERED}:
        return MessageState.DELIVERED
    if seen == {MessageState.REJECTED}:
        return MessageState.REJECTED
    if MessageState.UNDELIVERED in seen or MessageState.REJECTED in seen:
        return MessageState.UNDELIVERED
    return MessageState.EXPIRED


def expires_at_for(
    created_at: Millis, client_validity: Millis | None, account_default_validity_s: int | None
) -> Millis:
    """When a message expires: the client's validity period, else the account's
    default, else 48 hours after acceptance."""
    if client_validity is not None:
        return client_validity
    if account_default_validity_s is not None:
        return created_at + account_default_validity_s * 1000
    return created_at + DEFAULT_VALIDITY_MS


def wants_receipt(registered_delivery: int, final_state: MessageState) -> bool:
    """SMPP 3.4 §5.2.17: bits 0-1 of registered_delivery — 1 asks for a receipt
    on success or failure, 2 on failure only."""
    asked = registered_delivery & 0x03
    if asked == 1:
        return True
    if asked == 2:
        return final_state is not MessageState.DELIVERED
    return False


# SMPP 3.4 Appendix B "stat" words for receipts the gateway writes itself.
RECEIPT_STAT = {
    MessageState.DELIVERED: "DELIVRD",
    MessageState.UNDELIVERED: "UNDELIV",
    MessageState.EXPIRED: "EXPIRED",
    MessageState.REJECTED: "REJECTD",
}
