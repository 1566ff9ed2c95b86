"""The minimal outbox's providers, and the migration matching the models."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncSession

import db.models
from domain.accounts.delivery import Message, deliver
from tests.accounts.conftest import Outbox

ACCOUNTS_TABLES = {
    "users", "sign_ins", "refresh_tokens", "trusted_devices", "otp_challenges", "account_tokens", "security_events"
}


async def test_the_file_provider_writes_one_json_file_per_message(tmp_path: Path) -> None:
    await deliver(f"file://{tmp_path}", Message("sms", "+15550109999", "otp", "code 123456", data={"code": "123456"}))
    await deliver(f"file://{tmp_path}", Message("email", "a@example.com", "otp", "code 654321", subject="Code"))
    messages = Outbox(tmp_path).messages()
    assert [(m["channel"], m["to"], m["data"]) for m in messages] == [
        ("sms", "+15550109999", {"code": "123456"}),
        ("email", "a@example.com", {}),
    ]


async def test_the_console_provider_logs(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="domain.accounts.delivery"):
        await deliver("console://", Message("email", "a@example.com", "verify_email", "hello"))
    assert "a@example.com" in caplog.text


# SQLite cannot reflect the lower(email) indexes; PostgreSQL compares them.
@pytest.mark.filterwarnings("ignore:.*expression-based index")
async def test_the_migration_matches_the_models(session: AsyncSession) -> None:
    connection = await session.connection()

    def differences(sync_connection: object) -> list:
        context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
        return compare_metadata(context, db.models.Base.metadata)

    diff = await connection.run_sync(differences)

    def table_of(entry: object) -> str | None:
        item = entry[0] if isinstance(entry, list) else entry
        for part in item[1:]:
            name = getattr(part, "name", None) if not isinstance(part, str) else part
            table = getattr(part, "table", None)
            if table is not None:
                return table.name
            if name in ACCOUNTS_TABLES:
                return name
        return None

    ours = [entry for entry in diff if table_of(entry) in ACCOUNTS_TABLES]
    assert ours == []
