"""Plain async factories for ledger tests: open accounts, fund them, snapshot the whole book."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.ledger import JournalEntry, JournalPosting, LedgerAccount, LedgerHold
from domain import ledger
from domain.ledger import Entry


async def open_account(
    session: AsyncSession,
    *,
    balance: int = 0,
    asset: str = "USD",
    kind: str = "wallet",
    owner_type: str = "user",
    allow_negative: bool = False,
) -> LedgerAccount:
    account = await ledger.get_or_create_account(session, owner_type, uuid.uuid4(), asset, kind, allow_negative)
    if balance:
        await fund(session, account.id, balance, asset)
    return account


async def clearing(session: AsyncSession, asset: str = "USD") -> LedgerAccount:
    """The platform's account facing the outside world: it may go negative (money came in)."""
    return await ledger.platform_account(session, asset, "clearing", allow_negative=True)


async def fund(session: AsyncSession, account_id: uuid.UUID, amount: int, asset: str = "USD") -> Entry:
    source = await clearing(session, asset)
    return await ledger.transfer(session, source.id, account_id, amount, asset, f"fund:{uuid.uuid4()}", "test.fund")


async def available(session: AsyncSession, account_id: uuid.UUID) -> int:
    return (await ledger.balance(session, account_id)).available


@dataclass(frozen=True)
class Book:
    """Everything a refused operation must leave alone."""

    entries: int
    postings: int
    holds: int
    balances: dict[uuid.UUID, tuple[int, int]]


async def snapshot(session: AsyncSession) -> Book:
    async def count(model: type) -> int:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()

    rows = (await session.execute(select(LedgerAccount.id, LedgerAccount.balance, LedgerAccount.version))).all()
    return Book(
        entries=await count(JournalEntry),
        postings=await count(JournalPosting),
        holds=await count(LedgerHold),
        balances={row.id: (row.balance, row.version) for row in rows},
    )
