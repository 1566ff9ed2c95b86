"""Every model module, imported here so Base.metadata knows every table (Alembic, tests)."""

from db.base import Base
from db.models import accounts, earnings, family, ledger, notifications

__all__ = ["Base", "accounts", "earnings", "family", "ledger", "notifications"]
