"""Every model module, imported here so Base.metadata knows every table (Alembic, tests)."""

from db.base import Base
from db.models import ledger  # noqa: F401

__all__ = ["Base"]
