"""The initial store: accounts, money, messages and their lifecycle, lists, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# INTEGER PRIMARY KEY is SQLite's rowid (no second index); BIGINT elsewhere.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('parent_id', Id, nullable=True),
    sa.Column('login', sa.String(length=32), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=128), server_default='', nullable=False),
    sa.Column('status', sa.String(length=12), server_default='active', nullable=False),
    sa.Column('allowed_ips', sa.Text(), server_default='', nullable=False),
    sa.Column('max_binds', sa.Integer(), server_default='1', nullable=False),
    sa.Column('tps', sa.Integer(), server_default='100', nullable=False),
    sa.Column('reserved_phone', sa.String(length=21), nullable=True),
    sa.Column('extension', sa.String(length=12), nullable=True),
    sa.Column('default_validity_s', sa.Integer(), nullable=True),
    sa.Column('balance', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('credit_limit', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('quota_left', sa.BigInteger(), nullable=True),
    sa.Column('low_balance_threshold', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['accounts.id'], name=op.f('fk_accounts_parent_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('extension', name=op.f('uq_accounts_extension')),
    sa.UniqueConstraint('login', name=op.f('uq_accounts_login'))
    )
    op.create_index('ix_accounts_parent_id', 'accounts', ['parent_id'], unique=False)
    op.create_table('audit_log',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('at', sa.BigInteger(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('target', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index('ix_audit_log_at', 'audit_log', ['at'], unique=False)
    op.create_table('blacklist',
    sa.Column('scope_id', Id, nullable=False),
    sa.Column('phone', sa.String(length=21), nullable=False),
    sa.Column('reason', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('scope_id', 'phone', name=op.f('pk_blacklist'))
    )
    op.create_table('carrier_message_ids',
    sa.Column('carrier', sa.String(length=16), nullable=False),
    sa.Column('carrier_msg_id', sa.String(length=64), nullable=False),
    sa.Column('message_id', Id, nullable=False),
    sa.Column('seq', sa.SmallInteger(), nullable=False),
    sa.Column('link', sa.String(length=32), nullable=True),
    sa.Column('submitted_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('carrier', 'carrier_msg_id', name=op.f('pk_carrier_message_ids')),
    sqlite_with_rowid=False
    )
    op.create_table('keywords',
    sa.Column('list', sa.String(length=16), nullable=False),
    sa.Column('scope_id', Id, nullable=False),
    sa.Column('word', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('list', 'scope_id', 'word', name=op.f('pk_keywords'))
    )
    op.create_table('ledger',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('enterprise_id', Id, nullable=False),
    sa.Column('account_id', Id, nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('message_id', Id, nullable=True),
    sa.Column('at', sa.BigInteger(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=True),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger'))
    )
    op.create_index('ix_ledger_enterprise_id', 'ledger', ['enterprise_id', 'id'], unique=False)
    op.create_table('message_events',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('message_id', Id, nullable=False),
    sa.Column('seq', sa.SmallInteger(), nullable=False),
    sa.Column('at', sa.BigInteger(), nullable=False),
    sa.Column('from_state', sa.String(length=12), nullable=True),
    sa.Column('to_state', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.String(length=128), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_events'))
    )
    op.create_index('ix_message_events_message_id', 'message_events', ['message_id', 'id'], unique=False)
    op.create_table('messages',
    sa.Column('id', Id, autoincrement=False, nullable=False),
    sa.Column('account_id', Id, nullable=False),
    sa.Column('enterprise_id', Id, nullable=False),
    sa.Column('source_addr', sa.String(length=21), nullable=False),
    sa.Column('dest_addr', sa.String(length=21), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('data_coding', sa.SmallInteger(), nullable=False),
    sa.Column('registered_delivery', sa.SmallInteger(), nullable=False),
    sa.Column('priority', sa.SmallInteger(), nullable=False),
    sa.Column('carrier', sa.String(length=16), nullable=True),
    sa.Column('parts', sa.SmallInteger(), nullable=False),
    sa.Column('charge', sa.BigInteger(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('first_state', sa.String(length=12), nullable=False),
    sa.Column('hold_reason', sa.String(length=8), nullable=True),
    sa.Column('reason', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('due_at', sa.BigInteger(), nullable=True),
    sa.Column('expires_at', sa.BigInteger(), nullable=False),
    sa.Column('final_at', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages'))
    )
    op.create_index('ix_messages_account_id', 'messages', ['account_id', 'id'], unique=False)
    op.create_index('ix_messages_held', 'messages', ['due_at', 'id'], unique=False, sqlite_where=sa.text("state = 'held'"), postgresql_where=sa.text("state = 'held'"))
    op.create_index('ix_messages_open', 'messages', ['expires_at', 'id'], unique=False, sqlite_where=sa.text("state IN ('held', 'queued', 'sending', 'submitted')"), postgresql_where=sa.text("state IN ('held', 'queued', 'sending', 'submitted')"))
    op.create_table('mo_messages',
    sa.Column('id', Id, autoincrement=False, nullable=False),
    sa.Column('account_id', Id, nullable=True),
    sa.Column('carrier', sa.String(length=16), nullable=False),
    sa.Column('link', sa.String(length=32), nullable=True),
    sa.Column('carrier_msg_id', sa.String(length=64), nullable=True),
    sa.Column('source_addr', sa.String(length=21), nullable=False),
    sa.Column('dest_addr', sa.String(length=21), nullable=False),
    sa.Column('data_coding', sa.SmallInteger(), nullable=False),
    sa.Column('esm_class', sa.SmallInteger(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mo_messages'))
    )
    op.create_index('ix_mo_messages_account_id', 'mo_messages', ['account_id', 'id'], unique=False)
    op.create_table('outbox',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('account_id', Id, nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('ref_id', Id, nullable=False),
    sa.Column('source_addr', sa.String(length=21), nullable=False),
    sa.Column('dest_addr', sa.String(length=21), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=True),
    sa.Column('stat', sa.String(length=16), nullable=True),
    sa.Column('err', sa.String(length=16), nullable=True),
    sa.Column('submit_at', sa.BigInteger(), nullable=True),
    sa.Column('done_at', sa.BigInteger(), nullable=True),
    sa.Column('parts', sa.SmallInteger(), nullable=True),
    sa.Column('data_coding', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('esm_class', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    op.create_index('ix_outbox_account_id', 'outbox', ['account_id', 'next_attempt_at', 'id'], unique=False)
    op.create_table('portability',
    sa.Column('phone', sa.String(length=21), nullable=False),
    sa.Column('carrier', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=128), nullable=True),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('phone', name=op.f('pk_portability'))
    )
    op.create_table('receipts',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('carrier', sa.String(length=16), nullable=False),
    sa.Column('carrier_msg_id', sa.String(length=64), nullable=False),
    sa.Column('message_id', Id, nullable=True),
    sa.Column('seq', sa.SmallInteger(), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('stat', sa.String(length=16), nullable=False),
    sa.Column('err', sa.String(length=16), nullable=True),
    sa.Column('submit_at', sa.BigInteger(), nullable=True),
    sa.Column('done_at', sa.BigInteger(), nullable=True),
    sa.Column('received_at', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipts'))
    )
    op.create_index('ix_receipts_carrier', 'receipts', ['carrier', 'carrier_msg_id'], unique=False)
    op.create_index('ix_receipts_message_id', 'receipts', ['message_id'], unique=False)
    op.create_table('prices',
    sa.Column('account_id', Id, nullable=False),
    sa.Column('carrier', sa.String(length=16), server_default='', nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_prices_account_id')),
    sa.PrimaryKeyConstraint('account_id', 'carrier', name=op.f('pk_prices'))
    )
    op.create_table('review_queue',
    sa.Column('message_id', Id, autoincrement=False, nullable=False),
    sa.Column('enterprise_id', Id, nullable=False),
    sa.Column('reason', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('decision', sa.String(length=12), nullable=True),
    sa.Column('decided_at', sa.BigInteger(), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_review_queue_message_id')),
    sa.PrimaryKeyConstraint('message_id', name=op.f('pk_review_queue'))
    )
    op.create_index('ix_review_queue_pending', 'review_queue', ['message_id'], unique=False, sqlite_where=sa.text('decision IS NULL'), postgresql_where=sa.text('decision IS NULL'))
    op.create_table('segments',
    sa.Column('message_id', Id, nullable=False),
    sa.Column('seq', sa.SmallInteger(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('due_at', sa.BigInteger(), nullable=True),
    sa.Column('esm_class', sa.SmallInteger(), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('attempts', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('link', sa.String(length=32), nullable=True),
    sa.Column('carrier_msg_id', sa.String(length=64), nullable=True),
    sa.Column('submitted_at', sa.BigInteger(), nullable=True),
    sa.Column('done_at', sa.BigInteger(), nullable=True),
    sa.Column('stat', sa.String(length=16), nullable=True),
    sa.Column('err', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_segments_message_id')),
    sa.PrimaryKeyConstraint('message_id', 'seq', name=op.f('pk_segments')),
    sqlite_with_rowid=False
    )
    op.create_index('ix_segments_queued', 'segments', ['due_at', 'message_id', 'seq'], unique=False, sqlite_where=sa.text("state = 'queued'"), postgresql_where=sa.text("state = 'queued'"))
    op.create_table('signatures',
    sa.Column('id', Id, autoincrement=True, nullable=False),
    sa.Column('enterprise_id', Id, nullable=False),
    sa.Column('text', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=12), server_default='pending', nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.Column('decided_at', sa.BigInteger(), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['enterprise_id'], ['accounts.id'], name=op.f('fk_signatures_enterprise_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signatures')),
    sa.UniqueConstraint('enterprise_id', 'text', name='uq_signatures_enterprise_id_text')
    )


def downgrade() -> None:
    # Indexes go with their tables; children before parents.
    for table in (
        "signatures", "segments", "review_queue", "prices", "receipts", "portability", "outbox",
        "mo_messages", "messages", "message_events", "ledger", "keywords", "carrier_message_ids",
        "blacklist", "audit_log", "accounts",
    ):
        op.drop_table(table)
