"""notifications: in-app notifications, preferences, quiet hours; outbox kind and data.

Revision ID: notifications_0002
Revises: notifications_0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "notifications_0002"
down_revision = "notifications_0001"
branch_labels = None
depends_on = ("accounts_0001",)

CHANNEL = sa.Enum("EMAIL", "SMS", name="messagechannel", native_enum=False, create_constraint=False, length=8)


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(sa.Column("kind", sa.String(64), nullable=False, server_default="message"))
        batch.add_column(sa.Column("data", sa.JSON(), nullable=True))
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recipient_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("style", sa.String(8), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["users.id"], name=op.f("fk_notifications_recipient_id_users"), ondelete="CASCADE"
        ),
        sa.CheckConstraint("style IN ('TOAST', 'MODAL')", name=op.f("ck_notifications_style")),
    )
    op.create_index("ix_notifications_recipient_created", "notifications", ["recipient_id", "created_at", "id"])
    op.create_index("ix_notifications_recipient_unread", "notifications", ["recipient_id", "read_at"])
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("channel", CHANNEL, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "type", "channel", name=op.f("pk_notification_preferences")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_preferences_user_id_users"), ondelete="CASCADE"
        ),
        sa.CheckConstraint("channel IN ('EMAIL', 'SMS')", name=op.f("ck_notification_preferences_channel")),
    )
    op.create_table(
        "notification_quiet_hours",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_quiet_hours")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_quiet_hours_user_id_users"), ondelete="CASCADE"
        ),
    )


def downgrade() -> None:
    op.drop_table("notification_quiet_hours")
    op.drop_table("notification_preferences")
    op.drop_index("ix_notifications_recipient_unread", table_name="notifications")
    op.drop_index("ix_notifications_recipient_created", table_name="notifications")
    op.drop_table("notifications")
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_column("data")
        batch.drop_column("kind")
