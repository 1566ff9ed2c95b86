"""The ledger: accounts, journal entries, postings, holds and recorded verify runs.

Revision ID: ledger_0001
Revises: base_0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "ledger_0001"
down_revision = "base_0001"
branch_labels = ("ledger",)
depends_on = None

OWNERLESS = sa.text("owner_id IS NULL")


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_type", sa.String(32), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("asset", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("allow_negative", sa.Boolean(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_accounts"),
        sa.UniqueConstraint(
            "owner_type", "owner_id", "asset", "kind", name="uq_ledger_accounts_owner_type_owner_id_asset_kind"
        ),
        sa.CheckConstraint("allow_negative OR balance >= 0", name=op.f("ck_ledger_accounts_non_negative")),
    )
    op.create_index(
        "uq_ledger_accounts_ownerless",
        "ledger_accounts",
        ["owner_type", "asset", "kind"],
        unique=True,
        postgresql_where=OWNERLESS,
        sqlite_where=OWNERLESS,
    )

    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("memo", sa.String(500), nullable=True),
        sa.Column("reference_type", sa.String(32), nullable=True),
        sa.Column("reference_id", sa.String(64), nullable=True),
        sa.Column("reverses_entry_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_entries"),
        sa.UniqueConstraint("idempotency_key", name="uq_ledger_entries_idempotency_key"),
        sa.UniqueConstraint("reverses_entry_id", name="uq_ledger_entries_reverses_entry_id"),
        sa.ForeignKeyConstraint(
            ["reverses_entry_id"], ["ledger_entries.id"], name="fk_ledger_entries_reverses_entry_id_ledger_entries"
        ),
    )
    op.create_index("ix_ledger_entries_reference_type", "ledger_entries", ["reference_type", "reference_id"])

    op.create_table(
        "ledger_postings",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("asset", sa.String(8), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "version", name="pk_ledger_postings"),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_ledger_postings_non_zero")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["ledger_accounts.id"], name="fk_ledger_postings_account_id_ledger_accounts"
        ),
        sa.ForeignKeyConstraint(["entry_id"], ["ledger_entries.id"], name="fk_ledger_postings_entry_id_ledger_entries"),
    )
    op.create_index("ix_ledger_postings_entry_id", "ledger_postings", ["entry_id"])

    op.create_table(
        "ledger_holds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("holding_account_id", sa.Uuid(), nullable=False),
        sa.Column("asset", sa.String(8), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("captured_amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("place_entry_id", sa.Uuid(), nullable=False),
        sa.Column("settle_entry_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("reference_type", sa.String(32), nullable=True),
        sa.Column("reference_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_holds"),
        sa.CheckConstraint("status IN ('pending', 'posted', 'voided')", name=op.f("ck_ledger_holds_status")),
        sa.CheckConstraint(
            "amount > 0 AND captured_amount >= 0 AND captured_amount <= amount", name=op.f("ck_ledger_holds_amounts")
        ),
        sa.ForeignKeyConstraint(["account_id"], ["ledger_accounts.id"], name="fk_ledger_holds_account_id_ledger_accounts"),
        sa.ForeignKeyConstraint(
            ["holding_account_id"], ["ledger_accounts.id"], name="fk_ledger_holds_holding_account_id_ledger_accounts"
        ),
        sa.ForeignKeyConstraint(
            ["place_entry_id"], ["ledger_entries.id"], name="fk_ledger_holds_place_entry_id_ledger_entries"
        ),
        sa.ForeignKeyConstraint(
            ["settle_entry_id"], ["ledger_entries.id"], name="fk_ledger_holds_settle_entry_id_ledger_entries"
        ),
        sa.UniqueConstraint("place_entry_id", name="uq_ledger_holds_place_entry_id"),
        sa.UniqueConstraint("settle_entry_id", name="uq_ledger_holds_settle_entry_id"),
    )
    op.create_index("ix_ledger_holds_account_id", "ledger_holds", ["account_id", "status"])
    op.create_index("ix_ledger_holds_holding_account_id", "ledger_holds", ["holding_account_id", "status"])

    op.create_table(
        "ledger_verify_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("violation_count", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_verify_runs"),
    )
    op.create_index("ix_ledger_verify_runs_started_at", "ledger_verify_runs", ["started_at"])


def downgrade() -> None:
    op.drop_table("ledger_verify_runs")
    op.drop_table("ledger_holds")
    op.drop_table("ledger_postings")
    op.drop_table("ledger_entries")
    op.drop_table("ledger_accounts")
