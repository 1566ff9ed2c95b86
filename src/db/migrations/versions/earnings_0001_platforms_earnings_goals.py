"""Earnings: per-user settings and plan, platforms, earnings and goals.

Revision ID: earnings_0001
Revises: base_0001
Create Date: 2026-11-24

Earnings are income recorded from elsewhere, not balances: nothing here touches the ledger.
"""

import sqlalchemy as sa
from alembic import op

from db.base import UTCDateTime

revision = "earnings_0001"
down_revision = "base_0001"
branch_labels = ("earnings",)
depends_on = ("accounts_0001",)


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "earnings_profiles",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("plan", sa.String(16), nullable=False),
        sa.Column("default_currency", sa.String(3), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_earnings_profiles")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_earnings_profiles_user_id_users"), ondelete="CASCADE"
        ),
        sa.CheckConstraint("plan IN ('FREE', 'PRO', 'BUSINESS')", name=op.f("ck_earnings_profiles_plan")),
    )

    op.create_table(
        "earning_platforms",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("category", sa.String(60), nullable=True),
        sa.Column("color", sa.String(7), nullable=False),
        sa.Column("archived_at", UTCDateTime(), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_earning_platforms")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_earning_platforms_user_id_users"), ondelete="CASCADE"
        ),
    )
    op.create_index("ix_earning_platforms_user_created", "earning_platforms", ["user_id", "created_at", "id"])

    op.create_table(
        "earnings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("platform_id", sa.Uuid(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("hours_centi", sa.Integer(), nullable=True),
        sa.Column("notes", sa.String(2000), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_earnings")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_earnings_user_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["earning_platforms.id"], name=op.f("fk_earnings_platform_id_earning_platforms")
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_earnings_positive_amount")),
        sa.CheckConstraint("hours_centi IS NULL OR hours_centi >= 0", name=op.f("ck_earnings_hours_not_negative")),
    )
    op.create_index("ix_earnings_user_date", "earnings", ["user_id", "date", "created_at", "id"])
    op.create_index(
        "ix_earnings_user_currency_date",
        "earnings",
        ["user_id", "currency", "date", "platform_id", "amount_minor", "hours_centi"],
    )
    op.create_index("ix_earnings_platform_id", "earnings", ["platform_id"])

    op.create_table(
        "earning_goals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.String(2000), nullable=True),
        sa.Column("target_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("missed_at", UTCDateTime(), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_earning_goals")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_earning_goals_user_id_users"), ondelete="CASCADE"
        ),
        sa.CheckConstraint("status IN ('ACTIVE', 'COMPLETED', 'MISSED')", name=op.f("ck_earning_goals_status")),
        sa.CheckConstraint("target_minor > 0", name=op.f("ck_earning_goals_positive_target")),
    )
    op.create_index("ix_earning_goals_user_created", "earning_goals", ["user_id", "created_at", "id"])
    op.create_index("ix_earning_goals_status_deadline", "earning_goals", ["status", "deadline"])


def downgrade() -> None:
    op.drop_table("earning_goals")
    op.drop_table("earnings")
    op.drop_table("earning_platforms")
    op.drop_table("earnings_profiles")
