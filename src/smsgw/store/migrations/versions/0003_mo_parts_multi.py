"""Long MO reassembled per account (accounts.reassemble_mo, mo_parts) and submit_multi's one id (multi_members).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# INTEGER PRIMARY KEY is SQLite's rowid (no second index); BIGINT elsewhere.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("reassemble_mo", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "mo_parts",
        sa.Column("mo_id", Id, autoincrement=False, nullable=False),
        sa.Column("account_id", Id, nullable=False),
        sa.Column("source_addr", sa.String(length=21), nullable=False),
        sa.Column("dest_addr", sa.String(length=21), nullable=False),
        sa.Column("reference", sa.Integer(), nullable=False),
        sa.Column("total", sa.SmallInteger(), nullable=False),
        sa.Column("number", sa.SmallInteger(), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("released_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("mo_id", name=op.f("pk_mo_parts")),
    )
    op.create_index(
        "ix_mo_parts_account_id", "mo_parts", ["account_id", "source_addr", "dest_addr", "reference"], unique=False
    )
    op.create_table(
        "multi_members",
        sa.Column("message_id", Id, autoincrement=False, nullable=False),
        sa.Column("submission_id", Id, nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_multi_members")),
    )
    op.create_index("ix_multi_members_submission_id", "multi_members", ["submission_id"], unique=False)


def downgrade() -> None:
    op.drop_table("multi_members")
    op.drop_table("mo_parts")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("reassemble_mo")
