"""Family: children linked to their parent, quiz tasks, answers, attempts, gifts, entitlements.

Revision ID: family_0001
Revises: base_0001
Create Date: 2026-11-24

Points are not stored here: each child's balance is a ledger account (family_children points
to it), so this branch depends on accounts (users) and the ledger (accounts, entries).
"""

import sqlalchemy as sa
from alembic import op

from db.base import UTCDateTime

revision = "family_0001"
down_revision = "base_0001"
branch_labels = ("family",)
depends_on = ("accounts_0001", "ledger_0001")

CORRECT = sa.text("correct")


def _id() -> sa.Column:
    return sa.Column("id", sa.Uuid(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "family_children",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=False),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.Column("points_account_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_family_children"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_family_children_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["users.id"], name="fk_family_children_parent_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["points_account_id"], ["ledger_accounts.id"],
            name="fk_family_children_points_account_id_ledger_accounts",
        ),
        sa.UniqueConstraint("points_account_id", name="uq_family_children_points_account_id"),
    )
    op.create_index("ix_family_children_parent_id", "family_children", ["parent_id", "created_at", "user_id"])

    op.create_table(
        "family_tasks",
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(100), nullable=True),
        sa.Column("points_reward", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=True),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        _id(),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_family_tasks"),
        sa.ForeignKeyConstraint(
            ["child_id"], ["family_children.user_id"], name="fk_family_tasks_child_id_family_children",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["users.id"], name="fk_family_tasks_parent_id_users", ondelete="CASCADE"
        ),
        sa.CheckConstraint("status IN ('PENDING', 'COMPLETED')", name=op.f("ck_family_tasks_status")),
        sa.CheckConstraint("points_reward > 0", name=op.f("ck_family_tasks_points_reward")),
    )
    op.create_index("ix_family_tasks_child_id", "family_tasks", ["child_id", "created_at", "id"])
    op.create_index("ix_family_tasks_child_status", "family_tasks", ["child_id", "status", "created_at", "id"])
    op.create_index("ix_family_tasks_parent_id", "family_tasks", ["parent_id"])

    op.create_table(
        "family_task_answers",
        _id(),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(500), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_family_task_answers"),
        sa.ForeignKeyConstraint(
            ["task_id"], ["family_tasks.id"], name="fk_family_task_answers_task_id_family_tasks",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "uq_family_task_answers_task_position", "family_task_answers", ["task_id", "position"], unique=True
    )
    op.create_index(
        "uq_family_task_answers_one_correct", "family_task_answers", ["task_id"], unique=True,
        postgresql_where=CORRECT, sqlite_where=CORRECT,
    )

    op.create_table(
        "family_task_attempts",
        _id(),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("answer_id", sa.Uuid(), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("points_earned", sa.Integer(), nullable=False),
        sa.Column("time_taken_seconds", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_family_task_attempts"),
        sa.ForeignKeyConstraint(
            ["task_id"], ["family_tasks.id"], name="fk_family_task_attempts_task_id_family_tasks",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["child_id"], ["family_children.user_id"], name="fk_family_task_attempts_child_id_family_children",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["answer_id"], ["family_task_answers.id"],
            name="fk_family_task_attempts_answer_id_family_task_answers", ondelete="CASCADE",
        ),
        sa.CheckConstraint("points_earned >= 0", name=op.f("ck_family_task_attempts_points_earned")),
    )
    op.create_index("ix_family_task_attempts_child_id", "family_task_attempts", ["child_id", "created_at", "id"])
    op.create_index("ix_family_task_attempts_task_id", "family_task_attempts", ["task_id"])

    op.create_table(
        "family_gifts",
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("points_threshold", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("unlocked_at", UTCDateTime(), nullable=True),
        sa.Column("activated_at", UTCDateTime(), nullable=True),
        _id(),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_family_gifts"),
        sa.ForeignKeyConstraint(
            ["child_id"], ["family_children.user_id"], name="fk_family_gifts_child_id_family_children",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["users.id"], name="fk_family_gifts_parent_id_users", ondelete="CASCADE"
        ),
        sa.CheckConstraint("status IN ('SENT', 'UNLOCKED', 'ACTIVATED')", name=op.f("ck_family_gifts_status")),
        sa.CheckConstraint("points_threshold > 0", name=op.f("ck_family_gifts_points_threshold")),
    )
    op.create_index("ix_family_gifts_child_id", "family_gifts", ["child_id", "created_at", "id"])
    op.create_index("ix_family_gifts_child_status", "family_gifts", ["child_id", "status", "points_threshold"])
    op.create_index("ix_family_gifts_parent_id", "family_gifts", ["parent_id"])

    op.create_table(
        "family_entitlements",
        _id(),
        sa.Column("gift_id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_family_entitlements"),
        sa.ForeignKeyConstraint(
            ["gift_id"], ["family_gifts.id"], name="fk_family_entitlements_gift_id_family_gifts", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["child_id"], ["family_children.user_id"], name="fk_family_entitlements_child_id_family_children",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["ledger_entries.id"], name="fk_family_entitlements_entry_id_ledger_entries"
        ),
        sa.UniqueConstraint("gift_id", name="uq_family_entitlements_gift_id"),
    )
    op.create_index("ix_family_entitlements_child_id", "family_entitlements", ["child_id"])


def downgrade() -> None:
    for table in (
        "family_entitlements", "family_gifts", "family_task_attempts", "family_task_answers", "family_tasks",
        "family_children",
    ):
        op.drop_table(table)
