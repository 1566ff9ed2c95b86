"""The root every domain's migration branch starts from.

Revision ID: base_0001
Revises:
Create Date: 2026-11-22

Each domain keeps its own branch (branch_labels = its name, down_revision = "base_0001" for its
first revision, depends_on for domains it references), so domains grow without fighting over one
linear history; `tally migrate` upgrades every head.
"""

revision = "base_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
