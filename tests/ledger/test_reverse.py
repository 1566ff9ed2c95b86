"""Corrections are new entries: reverse() posts the mirror image, once."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from domain import ledger
from domain.errors import DomainError
from tests.ledger.factories import available, open_account, snapshot


async def test_reversing_an_entry_restores_both_balances(session: AsyncSession) -> None:
    # Given a transfer of 30
    payer = await open_account(session, balance=100)
    payee = await open_account(session)
    entry = await ledger.transfer(session, payer.id, payee.id, 30, "USD", "t-r1", "test.transfer",
                                  reference_type="order", reference_id="o-1")
    # When it is reversed
    reversal = await ledger.reverse(session, entry.id, "t-r1:reverse", memo="order cancelled")
    # Then the money is back, the original entry is untouched, and the reversal points at it
    assert (await available(session, payer.id), await available(session, payee.id)) == (100, 0)
    assert reversal.reverses_entry_id == entry.id and reversal.reason == "reversal"
    assert reversal.reference_id == "o-1"
    assert {p.account_id: p.amount for p in reversal.postings} == {payer.id: 30, payee.id: -30}
    assert await ledger.get_entry(session, entry.id) == entry


async def test_an_entry_is_reversed_once_whatever_the_key(session: AsyncSession) -> None:
    # Given a reversed transfer
    payer = await open_account(session, balance=100)
    payee = await open_account(session)
    entry = await ledger.transfer(session, payer.id, payee.id, 30, "USD", "t-r2", "test.transfer")
    reversal = await ledger.reverse(session, entry.id, "t-r2:reverse")
    before = await snapshot(session)
    # When the same reversal is retried, and another one is attempted under a new key
    again = await ledger.reverse(session, entry.id, "t-r2:reverse")
    with pytest.raises(DomainError) as refused:
        await ledger.reverse(session, entry.id, "t-r2:reverse-again")
    # Then the retry is the first reversal, the second is refused, and nothing moved
    assert again.id == reversal.id and again.replayed
    assert refused.value.code == "ALREADY_REVERSED"
    assert await snapshot(session) == before


async def test_a_reversal_cannot_overdraw_the_account_that_spent_the_money(session: AsyncSession) -> None:
    # Given a payee who already spent what it received
    payer = await open_account(session, balance=100)
    payee = await open_account(session)
    elsewhere = await open_account(session)
    entry = await ledger.transfer(session, payer.id, payee.id, 30, "USD", "t-r3", "test.transfer")
    await ledger.transfer(session, payee.id, elsewhere.id, 20, "USD", "t-r3-spend", "test.transfer")
    before = await snapshot(session)
    # When the first transfer is reversed
    with pytest.raises(DomainError) as refused:
        await ledger.reverse(session, entry.id, "t-r3:reverse")
    # Then it is refused like any other overdraft
    assert refused.value.code == "INSUFFICIENT_FUNDS"
    assert await snapshot(session) == before


async def test_reversing_an_unknown_entry_is_not_found(session: AsyncSession) -> None:
    with pytest.raises(DomainError) as refused:
        await ledger.reverse(session, uuid.uuid4(), "nothing:reverse")
    assert refused.value.code == "NOT_FOUND"


async def test_a_holds_entries_are_not_reversible(session: AsyncSession) -> None:
    # Given a pending hold
    wallet = await open_account(session, balance=100)
    hold = await ledger.place_hold(session, wallet.id, 40, "h-r", "wallet.withdrawal")
    # When its placing entry is reversed
    with pytest.raises(DomainError) as refused:
        await ledger.reverse(session, hold.place_entry_id, "h-r:reverse")
    # Then the ledger says to void the hold instead
    assert refused.value.code == "NOT_REVERSIBLE"
