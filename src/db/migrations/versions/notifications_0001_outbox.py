"""notifications: the email/SMS outbox.

Revision ID: notifications_0001
Revises: base_0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "notifications_0001"
down_revision = "base_0001"
branch_labels = ("notifications",)
depends_on = None

CHANNEL = sa.Enum("EMAIL", "SMS", name="messagechannel", native_enum=False, create_constraint=False, length=8)
STATUS = sa.Enum(
    "PENDING", "SENT", "FAILED", name="messagestatus", native_enum=False, create_constraint=False, length=8
)


def upgrade() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("channel", CHANNEL, nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("dedupe_key", sa.String(255), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_message_id", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_messages_dedupe_key")),
        sa.CheckConstraint("channel IN ('EMAIL', 'SMS')", name=op.f("ck_outbox_messages_channel")),
        sa.CheckConstraint("status IN ('PENDING', 'SENT', 'FAILED')", name=op.f("ck_outbox_messages_status")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_outbox_messages_attempts")),
    )
    op.create_index("ix_outbox_messages_due", "outbox_messages", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_messages_due", table_name="outbox_messages")
    op.drop_table("outbox_messages")
