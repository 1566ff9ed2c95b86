"""Ledger accounts: finding or opening one, its balance, its history of postings."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.ledger import JournalPosting, LedgerAccount, LedgerHold
from db.pagination import Page, PageRequest, paginate
from domain.errors import Validator
from domain.ledger.assets import is_asset
from domain.ledger.errors import AccountNotFound, LedgerCode
from domain.ledger.sql import dialect_of, insert_unless_duplicate
from domain.ledger.types import Balance, OwnerType
from tally.clock import clock

_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


async def get_or_create_account(
    session: AsyncSession,
    owner_type: str,
    owner_id: uuid.UUID | None,
    asset: str,
    kind: str,
    allow_negative: bool = False,
) -> LedgerAccount:
    """The owner's account of this asset and kind, opened at zero if it does not exist yet.

    Safe under concurrency: a racing opener's insert does nothing and both read the one row.
    The first opener decides `allow_negative`.
    """
    check = Validator()
    check.check(_NAME.fullmatch(owner_type) is not None, "owner_type", "Not an owner type.", LedgerCode.INVALID_ENTRY)
    check.check(_NAME.fullmatch(kind) is not None, "kind", "Not an account kind.", LedgerCode.INVALID_ENTRY)
    check.check(is_asset(asset), "asset", f"Unknown asset {asset!r}.", LedgerCode.INVALID_ASSET)
    check.raise_if_any()

    found = await _find(session, owner_type, owner_id, asset, kind)
    if found is not None:
        return found
    await session.execute(
        insert_unless_duplicate(dialect_of(session), LedgerAccount.__table__),
        {
            "id": uuid.uuid4(), "owner_type": owner_type, "owner_id": owner_id, "asset": asset, "kind": kind,
            "allow_negative": allow_negative, "balance": 0, "version": 0, "created_at": clock.now(),
        },
    )
    found = await _find(session, owner_type, owner_id, asset, kind)
    assert found is not None, "the insert or the racing one it yielded to made the account"
    return found


async def platform_account(
    session: AsyncSession, asset: str, kind: str, allow_negative: bool = False
) -> LedgerAccount:
    """One of the platform's own accounts (fees, clearing with a payment provider…)."""
    return await get_or_create_account(session, OwnerType.PLATFORM, None, asset, kind, allow_negative)


async def get_account(session: AsyncSession, account_id: uuid.UUID) -> LedgerAccount:
    account = await session.scalar(
        select(LedgerAccount).where(LedgerAccount.id == account_id).execution_options(populate_existing=True)
    )
    if account is None:
        raise AccountNotFound(account_id)
    return account


async def _find(
    session: AsyncSession, owner_type: str, owner_id: uuid.UUID | None, asset: str, kind: str
) -> LedgerAccount | None:
    owner = LedgerAccount.owner_id.is_(None) if owner_id is None else LedgerAccount.owner_id == owner_id
    return await session.scalar(
        select(LedgerAccount)
        .where(LedgerAccount.owner_type == owner_type, owner, LedgerAccount.asset == asset, LedgerAccount.kind == kind)
        .execution_options(populate_existing=True)
    )


async def balance(session: AsyncSession, account_id: uuid.UUID) -> Balance:
    """What the account can spend now and what its pending holds keep aside (one statement)."""
    held = (
        select(func.coalesce(func.sum(LedgerHold.amount), 0))
        .where(LedgerHold.account_id == LedgerAccount.id, LedgerHold.status == "pending")
        .scalar_subquery()
    )
    row = (
        await session.execute(
            select(LedgerAccount.asset, LedgerAccount.balance, held.label("held")).where(LedgerAccount.id == account_id)
        )
    ).one_or_none()
    if row is None:
        raise AccountNotFound(account_id)
    return Balance(account_id=account_id, asset=row.asset, available=row.balance, held=int(row.held))


async def history(session: AsyncSession, account_id: uuid.UUID, request: PageRequest) -> Page[JournalPosting]:
    """The account's postings, newest first, in keyset pages (a posting's version orders them)."""
    statement = select(JournalPosting).where(JournalPosting.account_id == account_id)
    return await paginate(session, statement, [JournalPosting.version], request, descending=True)
