"""The store's tables, as SQLAlchemy Core metadata.

This is the schema the code expects; Alembic migrations under
``smsgw.store.migrations`` build it (a test compares the two).  Times are
BIGINT milliseconds since the Unix epoch, money BIGINT milli-fen, states the
string values of the domain enums.

Index notes (the hot paths, DESIGN.md §6):

* every accepted message writes ``messages``, its ``segments`` and a ``ledger``
  row; the indexes on those three tables are the cost of an acceptance, so
  each one has a named reader below;
* the dispatcher pages segments through the partial index ``ix_segments_queued``
  (only queued rows, ordered by due time), held messages through
  ``ix_messages_held``, expiry through ``ix_messages_open``; partial indexes
  keep the rows of finished messages out of them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite makes ``INTEGER PRIMARY KEY`` the rowid itself (no second index);
# BIGINT elsewhere.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Millis = sa.BigInteger
Money = sa.BigInteger

OPEN_STATES = ("held", "queued", "sending", "submitted")


def _partial(where: str) -> dict[str, Any]:
    return {"sqlite_where": sa.text(where), "postgresql_where": sa.text(where)}


accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("parent_id", Id, sa.ForeignKey("accounts.id"), nullable=True),
    sa.Column("login", sa.String(32), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("name", sa.String(128), nullable=False, server_default=""),
    sa.Column("status", sa.String(12), nullable=False, server_default="active"),
    sa.Column("allowed_ips", sa.Text, nullable=False, server_default=""),
    sa.Column("max_binds", sa.Integer, nullable=False, server_default="1"),
    sa.Column("tps", sa.Integer, nullable=False, server_default="100"),
    sa.Column("reserved_phone", sa.String(21), nullable=True),
    sa.Column("extension", sa.String(12), nullable=True, unique=True),
    sa.Column("default_validity_s", sa.Integer, nullable=True),
    sa.Column("balance", Money, nullable=False, server_default="0"),
    sa.Column("credit_limit", Money, nullable=False, server_default="0"),
    sa.Column("quota_left", Money, nullable=True),
    sa.Column("low_balance_threshold", Money, nullable=True),
    sa.Column("created_at", Millis, nullable=False),
    sa.Column("updated_at", Millis, nullable=False),
    # long MO to this account's clients: one deliver_sm with the whole text, or the parts (migration 0003)
    sa.Column("reassemble_mo", sa.Boolean, nullable=False, server_default=sa.false()),
)
sa.Index("ix_accounts_parent_id", accounts.c.parent_id)

prices = sa.Table(
    "prices",
    metadata,
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), primary_key=True),
    # '' is the account's price for any carrier without a price of its own
    sa.Column("carrier", sa.String(16), primary_key=True, server_default=""),
    sa.Column("price", Money, nullable=False),
    sa.Column("updated_at", Millis, nullable=False),
)

signatures = sa.Table(
    "signatures",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("enterprise_id", Id, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("text", sa.String(32), nullable=False),
    sa.Column("status", sa.String(12), nullable=False, server_default="pending"),
    sa.Column("created_at", Millis, nullable=False),
    sa.Column("decided_at", Millis, nullable=True),
    sa.Column("decided_by", sa.String(64), nullable=True),
    sa.UniqueConstraint("enterprise_id", "text", name="uq_signatures_enterprise_id_text"),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=False),
    sa.Column("account_id", Id, nullable=False),
    sa.Column("enterprise_id", Id, nullable=False),
    sa.Column("source_addr", sa.String(21), nullable=False),
    sa.Column("dest_addr", sa.String(21), nullable=False),
    sa.Column("text", sa.Text, nullable=True),
    sa.Column("data_coding", sa.SmallInteger, nullable=False),
    sa.Column("registered_delivery", sa.SmallInteger, nullable=False),
    sa.Column("priority", sa.SmallInteger, nullable=False),
    sa.Column("carrier", sa.String(16), nullable=True),
    sa.Column("parts", sa.SmallInteger, nullable=False),
    sa.Column("charge", Money, nullable=False),
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("first_state", sa.String(12), nullable=False),
    sa.Column("hold_reason", sa.String(8), nullable=True),
    sa.Column("reason", sa.String(128), nullable=True),
    sa.Column("created_at", Millis, nullable=False),
    sa.Column("due_at", Millis, nullable=True),
    sa.Column("expires_at", Millis, nullable=False),
    sa.Column("final_at", Millis, nullable=True),
)
# The web centre's "my messages" listing.
sa.Index("ix_messages_account_id", messages.c.account_id, messages.c.id)
# Held messages released by time (review holds have no due_at).
sa.Index("ix_messages_held", messages.c.due_at, messages.c.id, **_partial("state = 'held'"))
# Expiry sweep over messages not yet final.
sa.Index(
    "ix_messages_open",
    messages.c.expires_at,
    messages.c.id,
    **_partial("state IN ('held', 'queued', 'sending', 'submitted')"),
)

segments = sa.Table(
    "segments",
    metadata,
    sa.Column("message_id", Id, sa.ForeignKey("messages.id"), primary_key=True),
    sa.Column("seq", sa.SmallInteger, primary_key=True),
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("due_at", Millis, nullable=True),
    sa.Column("esm_class", sa.SmallInteger, nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("attempts", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("link", sa.String(32), nullable=True),
    sa.Column("carrier_msg_id", sa.String(64), nullable=True),
    sa.Column("submitted_at", Millis, nullable=True),
    sa.Column("done_at", Millis, nullable=True),
    sa.Column("stat", sa.String(16), nullable=True),
    sa.Column("err", sa.String(16), nullable=True),
    sqlite_with_rowid=False,
)
# The dispatcher's page of due segments, in (due time, id) order.
sa.Index(
    "ix_segments_queued",
    segments.c.due_at,
    segments.c.message_id,
    segments.c.seq,
    **_partial("state = 'queued'"),
)

carrier_message_ids = sa.Table(
    "carrier_message_ids",
    metadata,
    sa.Column("carrier", sa.String(16), primary_key=True),
    sa.Column("carrier_msg_id", sa.String(64), primary_key=True),
    sa.Column("message_id", Id, nullable=False),
    sa.Column("seq", sa.SmallInteger, nullable=False),
    sa.Column("link", sa.String(32), nullable=True),
    sa.Column("submitted_at", Millis, nullable=False),
    sqlite_with_rowid=False,
)

# The messages of one submit_multi (migration 0003, ``store.multi``): the client got ONE
# message id, ``submission_id``, and its receipts and query_sm use it for every destination.
multi_members = sa.Table(
    "multi_members",
    metadata,
    sa.Column("message_id", Id, primary_key=True, autoincrement=False),
    sa.Column("submission_id", Id, nullable=False),
)
sa.Index("ix_multi_members_submission_id", multi_members.c.submission_id)

receipts = sa.Table(
    "receipts",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("carrier", sa.String(16), nullable=False),
    sa.Column("carrier_msg_id", sa.String(64), nullable=False),
    sa.Column("message_id", Id, nullable=True),  # NULL until matched
    sa.Column("seq", sa.SmallInteger, nullable=True),
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("stat", sa.String(16), nullable=False),
    sa.Column("err", sa.String(16), nullable=True),
    sa.Column("submit_at", Millis, nullable=True),
    sa.Column("done_at", Millis, nullable=True),
    sa.Column("received_at", Millis, nullable=False),
)
sa.Index("ix_receipts_carrier", receipts.c.carrier, receipts.c.carrier_msg_id)
sa.Index("ix_receipts_message_id", receipts.c.message_id)

mo_messages = sa.Table(
    "mo_messages",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=False),
    sa.Column("account_id", Id, nullable=True),
    sa.Column("carrier", sa.String(16), nullable=False),
    sa.Column("link", sa.String(32), nullable=True),
    sa.Column("carrier_msg_id", sa.String(64), nullable=True),
    sa.Column("source_addr", sa.String(21), nullable=False),
    sa.Column("dest_addr", sa.String(21), nullable=False),
    sa.Column("data_coding", sa.SmallInteger, nullable=False),
    sa.Column("esm_class", sa.SmallInteger, nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("received_at", Millis, nullable=False),
)
sa.Index("ix_mo_messages_account_id", mo_messages.c.account_id, mo_messages.c.id)

# Parts of long MO held for an account that takes them reassembled (migration 0003,
# ``store.mo_parts``): the concatenation facts of each part, read from its UDH, until
# the message is complete or its first part is too old; then ``released_at`` is set
# and the row stays a while to recognise a part the carrier sends again.
mo_parts = sa.Table(
    "mo_parts",
    metadata,
    sa.Column("mo_id", Id, primary_key=True, autoincrement=False),
    sa.Column("account_id", Id, nullable=False),
    sa.Column("source_addr", sa.String(21), nullable=False),
    sa.Column("dest_addr", sa.String(21), nullable=False),
    sa.Column("reference", sa.Integer, nullable=False),
    sa.Column("total", sa.SmallInteger, nullable=False),
    sa.Column("number", sa.SmallInteger, nullable=False),
    sa.Column("received_at", Millis, nullable=False),
    sa.Column("released_at", Millis, nullable=True),
)
sa.Index(
    "ix_mo_parts_account_id",
    mo_parts.c.account_id,
    mo_parts.c.source_addr,
    mo_parts.c.dest_addr,
    mo_parts.c.reference,
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("account_id", Id, nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("ref_id", Id, nullable=False),
    sa.Column("source_addr", sa.String(21), nullable=False),
    sa.Column("dest_addr", sa.String(21), nullable=False),
    sa.Column("state", sa.String(12), nullable=True),
    sa.Column("stat", sa.String(16), nullable=True),
    sa.Column("err", sa.String(16), nullable=True),
    sa.Column("submit_at", Millis, nullable=True),
    sa.Column("done_at", Millis, nullable=True),
    sa.Column("parts", sa.SmallInteger, nullable=True),
    sa.Column("data_coding", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("esm_class", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("content", sa.LargeBinary, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", Millis, nullable=False),
    sa.Column("created_at", Millis, nullable=False),
)
sa.Index("ix_outbox_account_id", outbox.c.account_id, outbox.c.next_attempt_at, outbox.c.id)

ledger = sa.Table(
    "ledger",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("enterprise_id", Id, nullable=False),
    sa.Column("account_id", Id, nullable=True),
    sa.Column("amount", Money, nullable=False),
    sa.Column("kind", sa.String(12), nullable=False),
    sa.Column("message_id", Id, nullable=True),
    sa.Column("at", Millis, nullable=False),
    sa.Column("actor", sa.String(64), nullable=True),
    sa.Column("note", sa.String(255), nullable=True),
)
# Statements and the balance check, per enterprise.
sa.Index("ix_ledger_enterprise_id", ledger.c.enterprise_id, ledger.c.id)

message_events = sa.Table(
    "message_events",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("message_id", Id, nullable=False),
    sa.Column("seq", sa.SmallInteger, nullable=False),  # 0: the message itself
    sa.Column("at", Millis, nullable=False),
    sa.Column("from_state", sa.String(12), nullable=True),
    sa.Column("to_state", sa.String(12), nullable=False),
    sa.Column("reason", sa.String(128), nullable=True),
)
sa.Index("ix_message_events_message_id", message_events.c.message_id, message_events.c.id)

# scope_id 0 is the global list, otherwise an enterprise's own.
blacklist = sa.Table(
    "blacklist",
    metadata,
    sa.Column("scope_id", Id, primary_key=True),
    sa.Column("phone", sa.String(21), primary_key=True),
    sa.Column("reason", sa.String(128), nullable=True),
    sa.Column("created_at", Millis, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=True),
)

keywords = sa.Table(
    "keywords",
    metadata,
    sa.Column("list", sa.String(16), primary_key=True),  # reject, review, unsubscribe, ...
    sa.Column("scope_id", Id, primary_key=True),
    sa.Column("word", sa.String(64), primary_key=True),
    sa.Column("created_at", Millis, nullable=False),
)

review_queue = sa.Table(
    "review_queue",
    metadata,
    sa.Column("message_id", Id, sa.ForeignKey("messages.id"), primary_key=True, autoincrement=False),
    sa.Column("enterprise_id", Id, nullable=False),
    sa.Column("reason", sa.String(128), nullable=True),
    sa.Column("created_at", Millis, nullable=False),
    sa.Column("decision", sa.String(12), nullable=True),  # approved, rejected, expired
    sa.Column("decided_at", Millis, nullable=True),
    sa.Column("decided_by", sa.String(64), nullable=True),
)
sa.Index("ix_review_queue_pending", review_queue.c.message_id, **_partial("decision IS NULL"))

portability = sa.Table(
    "portability",
    metadata,
    sa.Column("phone", sa.String(21), primary_key=True),
    sa.Column("carrier", sa.String(16), nullable=False),
    sa.Column("note", sa.String(128), nullable=True),
    sa.Column("updated_at", Millis, nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("at", Millis, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("target", sa.String(64), nullable=True),
    sa.Column("detail", sa.Text, nullable=True),
)
sa.Index("ix_audit_log_at", audit_log.c.at)

# HTTP API keys (migration 0002).  A key is ``smsgw_<key_id>_<secret>``: the
# key_id finds the row, the secret is kept only as its SHA-256 (it is 256
# random bits, so a slow hash buys nothing and would cost every API call).
api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("key_id", sa.String(24), nullable=False, unique=True),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("label", sa.String(64), nullable=False, server_default=""),
    sa.Column("created_at", Millis, nullable=False),
    sa.Column("revoked_at", Millis, nullable=True),
)
sa.Index("ix_api_keys_account_id", api_keys.c.account_id)

# Per-account policy overrides set at run time through the manhole or the web centre
# (migration 0004): the values an administrator set, as JSON (``policy.settings.AccountPolicy``
# keys), over the configuration file's.  Loaded at start, so a restart keeps them.
account_policies = sa.Table(
    "account_policies",
    metadata,
    sa.Column("account_id", Id, sa.ForeignKey("accounts.id"), primary_key=True, autoincrement=False),
    sa.Column("policy", sa.Text, nullable=False),
    sa.Column("updated_at", Millis, nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=True),
)
