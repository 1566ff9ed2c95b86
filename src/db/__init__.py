"""Persistence: SQLAlchemy models, the engine and sessions, the unit of work, Alembic migrations."""
