"""Accounts: users, sign-ins, refresh tokens, trusted devices, OTP challenges, link tokens, audit.

Revision ID: accounts_0001
Revises: base_0001
Create Date: 2026-11-23

Logins are unique whatever their case through unique indexes on lower(email) and
lower(username) (expression indexes work on PostgreSQL and SQLite alike).
"""

import sqlalchemy as sa
from alembic import op

from db.base import UTCDateTime

revision = "accounts_0001"
down_revision = "base_0001"
branch_labels = ("accounts",)
depends_on = None


def _id() -> sa.Column:
    return sa.Column("id", sa.Uuid(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("email_verified_at", UTCDateTime(), nullable=True),
        sa.Column("two_factor_channel", sa.String(8), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        _id(),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.CheckConstraint("role IN ('MEMBER', 'CHILD', 'MODERATOR', 'ADMIN')", name="ck_users_role"),
        sa.CheckConstraint(
            "two_factor_channel IS NULL OR two_factor_channel IN ('EMAIL', 'SMS')",
            name="ck_users_two_factor_channel",
        ),
        sa.CheckConstraint("email IS NOT NULL OR username IS NOT NULL", name="ck_users_login"),
    )
    op.create_index("uq_users_lower_email", "users", [sa.text("lower(email)")], unique=True)
    op.create_index("uq_users_lower_username", "users", [sa.text("lower(username)")], unique=True)

    op.create_table(
        "sign_ins",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_reason", sa.String(32), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(400), nullable=True),
        _id(),
        sa.PrimaryKeyConstraint("id", name="pk_sign_ins"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_sign_ins_user_id_users", ondelete="CASCADE"),
    )
    op.create_index("ix_sign_ins_user_id", "sign_ins", ["user_id"])

    op.create_table(
        "refresh_tokens",
        sa.Column("sign_in_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        _id(),
        sa.PrimaryKeyConstraint("id", name="pk_refresh_tokens"),
        sa.ForeignKeyConstraint(
            ["sign_in_id"], ["sign_ins.id"], name="fk_refresh_tokens_sign_in_id_sign_ins", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("token_hash", name="uq_refresh_tokens_token_hash"),
    )
    op.create_index("ix_refresh_tokens_sign_in_id", "refresh_tokens", ["sign_in_id"])

    op.create_table(
        "trusted_devices",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        _id(),
        sa.PrimaryKeyConstraint("id", name="pk_trusted_devices"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_trusted_devices_user_id_users", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("token_hash", name="uq_trusted_devices_token_hash"),
    )
    op.create_index("ix_trusted_devices_user_id", "trusted_devices", ["user_id"])

    op.create_table(
        "otp_challenges",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("consumed_at", UTCDateTime(), nullable=True),
        _id(),
        sa.PrimaryKeyConstraint("id", name="pk_otp_challenges"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_otp_challenges_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_otp_challenges_user_id", "otp_challenges", ["user_id"])

    op.create_table(
        "account_tokens",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        _id(),
        sa.PrimaryKeyConstraint("id", name="pk_account_tokens"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_account_tokens_user_id_users", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("token_hash", name="uq_account_tokens_token_hash"),
        sa.CheckConstraint("purpose IN ('VERIFY_EMAIL', 'RESET_PASSWORD')", name="ck_account_tokens_purpose"),
    )
    op.create_index("ix_account_tokens_user_id", "account_tokens", ["user_id"])

    op.create_table(
        "security_events",
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("ip", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(400), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        _id(),
        sa.PrimaryKeyConstraint("id", name="pk_security_events"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_security_events_user_id_users", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_security_events_type", "security_events", ["type"])
    op.create_index("ix_security_events_user_id", "security_events", ["user_id"])
    op.create_index("ix_security_events_created_at", "security_events", ["created_at"])


def downgrade() -> None:
    for table in (
        "security_events",
        "account_tokens",
        "otp_challenges",
        "trusted_devices",
        "refresh_tokens",
        "sign_ins",
    ):
        op.drop_table(table)
    op.drop_index("uq_users_lower_username", table_name="users")
    op.drop_index("uq_users_lower_email", table_name="users")
    op.drop_table("users")
