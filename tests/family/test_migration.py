"""The hand-written family migration creates exactly what the models describe."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncConnection

import db.models


async def test_the_family_migration_matches_the_models(connection: AsyncConnection) -> None:
    def differences(sync_connection: Any) -> list[Any]:
        context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
        return compare_metadata(context, db.models.Base.metadata)

    found = await connection.run_sync(differences)
    assert [d for d in found if "family_" in repr(d)] == []
