"""Every model module, imported here so Base.metadata knows every table (Alembic, tests)."""

from db.base import Base

__all__ = ["Base"]
