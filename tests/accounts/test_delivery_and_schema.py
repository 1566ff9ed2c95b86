"""Account mail through the outbox, and the migration matching the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import db.models
from db.models.notifications import MessageStatus, OutboxMessage
from tests.accounts.conftest import Outbox
from tests.support.client import GraphQLClient

ACCOUNTS_TABLES = {
    "users", "sign_ins", "refresh_tokens", "trusted_devices", "otp_challenges", "account_tokens", "security_events"
}


async def test_account_mail_goes_through_the_outbox_and_secrets_are_wiped_once_sent(
    gql: GraphQLClient, session: AsyncSession, outbox: Outbox
) -> None:
    # When someone registers
    await gql.contract(
        "accounts", "Register",
        {"input": {"email": "grace@example.com", "password": "a long enough secret", "name": "Grace"}},
    )
    # Then the verification mail was written to the outbox and delivered by its job
    row = (await session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "grace@example.com"))).one()
    assert (row.kind, row.status) == ("verify_email", MessageStatus.SENT)
    # and the link it carried is readable by its recipient only, not in the database any more
    assert outbox.token("verify_email", to="grace@example.com")
    assert row.data is None and "token" not in row.body


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
