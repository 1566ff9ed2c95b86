"""The hand-written earnings migration creates exactly what the models describe."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncConnection

import db.models

EARNINGS_TABLES = {"earnings_profiles", "earning_platforms", "earnings", "earning_goals"}


def _table_of(entry: Any) -> str | None:
    item = entry[0] if isinstance(entry, list) else entry
    for part in item[1:]:
        table = getattr(part, "table", None)
        if table is not None:
            return table.name
        name = part if isinstance(part, str) else getattr(part, "name", None)
        if name in EARNINGS_TABLES:
            return name
    return None


# SQLite cannot reflect the accounts' lower(email) indexes (not ours); say nothing of them.
@pytest.mark.filterwarnings("ignore:.*expression-based index")
async def test_the_earnings_migration_matches_the_models(connection: AsyncConnection) -> None:
    def differences(sync_connection: Any) -> list[Any]:
        context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
        return compare_metadata(context, db.models.Base.metadata)

    found = await connection.run_sync(differences)
    assert [d for d in found if _table_of(d) in EARNINGS_TABLES] == []
