"""Holds: funds reserved at once, then captured (all or part) or voided, exactly once."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from domain import ledger
from domain.errors import DomainError
from domain.ledger import HoldStatus
from tests.ledger.factories import available, open_account, snapshot


async def test_a_hold_takes_the_funds_out_of_the_available_balance(session: AsyncSession) -> None:
    # Given a wallet with 100
    wallet = await open_account(session, balance=100)
    # When 60 are held for a withdrawal
    hold = await ledger.place_hold(session, wallet.id, 60, "w-1:hold", "wallet.withdrawal",
                                   reference_type="withdrawal", reference_id="w-1")
    # Then 40 can be spent, 60 are held, and the hold is pending in the owner's holds account
    assert await ledger.balance(session, wallet.id) == ledger.Balance(wallet.id, "USD", available=40, held=60)
    assert hold.status == HoldStatus.PENDING and hold.amount == 60
    holding = await ledger.get_account(session, hold.holding_account_id)
    assert (holding.kind, holding.owner_id, holding.balance) == ("holds", wallet.owner_id, 60)
    assert (await ledger.verify(session)).ok


async def test_held_funds_cannot_be_spent(session: AsyncSession) -> None:
    # Given 60 of 100 on hold
    wallet = await open_account(session, balance=100)
    other = await open_account(session)
    await ledger.place_hold(session, wallet.id, 60, "w-2:hold", "wallet.withdrawal")
    # When the wallet tries to send 50
    with pytest.raises(DomainError) as refused:
        await ledger.transfer(session, wallet.id, other.id, 50, "USD", "t-h2", "test.transfer")
    # Then only the unheld 40 count
    assert refused.value.code == "INSUFFICIENT_FUNDS"


async def test_a_hold_beyond_the_balance_is_refused_and_writes_nothing(session: AsyncSession) -> None:
    wallet = await open_account(session, balance=100)
    before = await snapshot(session)
    with pytest.raises(DomainError) as refused:
        await ledger.place_hold(session, wallet.id, 101, "w-3:hold", "wallet.withdrawal")
    assert refused.value.code == "INSUFFICIENT_FUNDS"
    assert await snapshot(session) == before


async def test_capturing_a_hold_pays_the_destination(session: AsyncSession) -> None:
    # Given 60 held for a payout
    wallet = await open_account(session, balance=100)
    payouts = await ledger.platform_account(session, "USD", "clearing", allow_negative=True)
    hold = await ledger.place_hold(session, wallet.id, 60, "w-4:hold", "wallet.withdrawal")
    # When the bank confirms and the hold is captured
    captured = await ledger.capture_hold(session, hold.id, payouts.id, "w-4:capture")
    # Then the destination has the 60, nothing is held, and the wallet keeps its 40
    assert captured.status == HoldStatus.POSTED and captured.captured_amount == 60
    assert await ledger.balance(session, wallet.id) == ledger.Balance(wallet.id, "USD", available=40, held=0)
    assert await available(session, hold.holding_account_id) == 0
    assert (await ledger.verify(session)).ok


async def test_a_partial_capture_gives_the_rest_back(session: AsyncSession) -> None:
    # Given 60 held
    wallet = await open_account(session, balance=100)
    seller = await open_account(session)
    hold = await ledger.place_hold(session, wallet.id, 60, "w-5:hold", "shop.authorize")
    # When only 45 are captured
    await ledger.capture_hold(session, hold.id, seller.id, "w-5:capture", amount=45)
    # Then the seller has 45 and the wallet got 15 back
    assert (await available(session, seller.id), await available(session, wallet.id)) == (45, 55)
    assert (await ledger.verify(session)).ok


async def test_voiding_a_hold_returns_the_funds(session: AsyncSession) -> None:
    # Given 60 held
    wallet = await open_account(session, balance=100)
    hold = await ledger.place_hold(session, wallet.id, 60, "w-6:hold", "wallet.withdrawal")
    # When the withdrawal is cancelled
    voided = await ledger.void_hold(session, hold.id, "w-6:void")
    # Then all 100 are available again
    assert voided.status == HoldStatus.VOIDED and voided.settled_at is not None
    assert await ledger.balance(session, wallet.id) == ledger.Balance(wallet.id, "USD", available=100, held=0)
    assert (await ledger.verify(session)).ok


async def test_a_settled_hold_settles_once(session: AsyncSession) -> None:
    # Given a captured hold
    wallet = await open_account(session, balance=100)
    seller = await open_account(session)
    hold = await ledger.place_hold(session, wallet.id, 60, "w-7:hold", "wallet.withdrawal")
    await ledger.capture_hold(session, hold.id, seller.id, "w-7:capture")
    before = await snapshot(session)
    # When the capture is retried, then voided, then captured under another key
    retried = await ledger.capture_hold(session, hold.id, seller.id, "w-7:capture")
    with pytest.raises(DomainError) as void_refused:
        await ledger.void_hold(session, hold.id, "w-7:void")
    with pytest.raises(DomainError) as capture_refused:
        await ledger.capture_hold(session, hold.id, seller.id, "w-7:capture-2")
    # Then the retry is the same capture, the others are refused, and nothing moved
    assert retried.id == hold.id and retried.status == HoldStatus.POSTED
    assert void_refused.value.code == capture_refused.value.code == "HOLD_NOT_PENDING"
    assert await snapshot(session) == before


async def test_placing_the_same_hold_twice_gives_one_hold(session: AsyncSession) -> None:
    wallet = await open_account(session, balance=100)
    first = await ledger.place_hold(session, wallet.id, 30, "w-8:hold", "wallet.withdrawal")
    before = await snapshot(session)
    again = await ledger.place_hold(session, wallet.id, 30, "w-8:hold", "wallet.withdrawal")
    assert again.id == first.id
    assert await snapshot(session) == before


@pytest.mark.parametrize(("amount", "to_self", "code"), [(61, False, "INVALID_AMOUNT"), (0, False, "INVALID_AMOUNT"),
                                                         (None, True, "INVALID_ENTRY")])
async def test_a_capture_must_fit_the_hold_and_pay_someone_else(
    session: AsyncSession, amount: int | None, to_self: bool, code: str
) -> None:
    wallet = await open_account(session, balance=100)
    seller = await open_account(session)
    hold = await ledger.place_hold(session, wallet.id, 60, "w-9:hold", "wallet.withdrawal")
    before = await snapshot(session)
    with pytest.raises(DomainError) as refused:
        await ledger.capture_hold(session, hold.id, wallet.id if to_self else seller.id, "w-9:capture", amount=amount)
    assert refused.value.code == code
    assert await snapshot(session) == before
