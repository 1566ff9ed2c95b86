"""Accounts: one per owner, asset and kind (platform ones too); balances; keyset history."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.ledger import LedgerAccount
from db.pagination import PageRequest
from domain import ledger
from domain.errors import DomainError
from tests.ledger.factories import fund, open_account


async def test_opening_an_account_twice_gives_the_same_account(session: AsyncSession) -> None:
    # Given a user's wallet
    owner = uuid.uuid4()
    first = await ledger.get_or_create_account(session, "user", owner, "USD", "wallet")
    # When it is asked for again, and for another kind and asset
    again = await ledger.get_or_create_account(session, "user", owner, "USD", "wallet")
    other_kind = await ledger.get_or_create_account(session, "user", owner, "USD", "cashback")
    other_asset = await ledger.get_or_create_account(session, "user", owner, "EUR", "wallet")
    # Then the same owner, asset and kind is one account; anything else is another
    assert again.id == first.id
    assert len({first.id, other_kind.id, other_asset.id}) == 3
    assert (first.balance, first.version, first.allow_negative) == (0, 0, False)


async def test_a_platform_account_has_no_owner_and_still_exists_once(session: AsyncSession) -> None:
    # When the platform's fee account is asked for twice (owner id NULL both times)
    first = await ledger.platform_account(session, "USD", "fees")
    again = await ledger.get_or_create_account(session, "platform", None, "USD", "fees")
    # Then there is one row, not two (NULLs would be distinct in a plain unique constraint)
    assert again.id == first.id and first.owner_id is None
    rows = await session.scalar(
        select(func.count()).select_from(LedgerAccount).where(
            LedgerAccount.owner_type == "platform", LedgerAccount.kind == "fees", LedgerAccount.asset == "USD"
        )
    )
    assert rows == 1


@pytest.mark.parametrize(
    ("owner_type", "asset", "kind", "code"),
    [("user", "usd", "wallet", "INVALID_ASSET"), ("user", "XYZ", "wallet", "INVALID_ASSET"),
     ("User", "USD", "wallet", "INVALID_ENTRY"), ("user", "USD", "", "INVALID_ENTRY")],
)
async def test_an_account_needs_a_known_asset_and_plain_names(
    session: AsyncSession, owner_type: str, asset: str, kind: str, code: str
) -> None:
    with pytest.raises(DomainError) as refused:
        await ledger.get_or_create_account(session, owner_type, uuid.uuid4(), asset, kind)
    assert refused.value.code == code


async def test_the_balance_of_an_unknown_account_is_not_found(session: AsyncSession) -> None:
    with pytest.raises(DomainError) as refused:
        await ledger.balance(session, uuid.uuid4())
    assert refused.value.code == "NOT_FOUND"


async def test_history_pages_newest_first_by_keyset(session: AsyncSession) -> None:
    # Given an account with five postings (amounts 1..5, oldest first)
    account = await open_account(session)
    for amount in range(1, 6):
        await fund(session, account.id, amount)
    # When its history is read two at a time
    first = await ledger.history(session, account.id, PageRequest(first=2))
    second = await ledger.history(session, account.id, PageRequest(first=2, after=first.cursors[-1]))
    third = await ledger.history(session, account.id, PageRequest(first=2, after=second.cursors[-1]))
    # Then the pages run newest to oldest, with running balances, and say what lies beyond
    assert [p.amount for p in first.items] == [5, 4]
    assert [p.balance_after for p in first.items] == [15, 10]
    assert [p.amount for p in second.items] == [3, 2]
    assert [p.amount for p in third.items] == [1]
    assert (first.total, first.has_next, third.has_next, third.has_previous) == (5, True, False, True)
    # And walking back from the oldest reaches the newer ones
    back = await ledger.history(session, account.id, PageRequest(last=2, before=third.cursors[0]))
    assert [p.amount for p in back.items] == [3, 2]
