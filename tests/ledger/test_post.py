"""post() and transfer(): balanced entries, no overdrafts, idempotency, few statements."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.ledger import LedgerAccount
from domain import ledger
from domain.errors import DomainError
from domain.ledger import EntrySpec, PostingSpec
from tests.conftest import Backend
from tests.ledger.factories import available, open_account, snapshot


async def test_a_transfer_moves_the_amount_and_records_each_balance_after(session: AsyncSession) -> None:
    # Given a wallet with 100 and an empty one
    payer = await open_account(session, balance=100)
    payee = await open_account(session)
    # When 30 move from one to the other
    entry = await ledger.transfer(session, payer.id, payee.id, 30, "USD", "t-1", "test.transfer", memo="lunch")
    # Then both balances changed, and each posting says where it left its account
    assert await available(session, payer.id) == 70
    assert await available(session, payee.id) == 30
    assert entry.replayed is False and entry.memo == "lunch" and entry.reason == "test.transfer"
    assert entry.posting_for(payer.id).amount == -30 and entry.posting_for(payer.id).balance_after == 70
    assert entry.posting_for(payee.id).amount == 30 and entry.posting_for(payee.id).balance_after == 30
    assert sum(p.amount for p in entry.postings) == 0
    # And reading it back gives the same entry
    assert await ledger.get_entry(session, entry.id) == entry


async def test_an_entry_can_split_across_several_accounts(session: AsyncSession) -> None:
    # Given a buyer, a seller and the platform's fee account
    buyer = await open_account(session, balance=1000)
    seller = await open_account(session)
    fees = await ledger.platform_account(session, "USD", "fees")
    # When one entry pays the seller 950 and the platform 50
    entry = await ledger.post(session, EntrySpec("sale-1", "shop.sale", [
        PostingSpec(buyer.id, -1000, "USD"), PostingSpec(seller.id, 950, "USD"), PostingSpec(fees.id, 50, "USD"),
    ], reference_type="order", reference_id="order-7"))
    # Then all three moved at once
    assert [await available(session, a.id) for a in (buyer, seller, fees)] == [0, 950, 50]
    assert len(entry.postings) == 3 and entry.reference_id == "order-7"


async def test_insufficient_funds_is_refused_and_writes_nothing(session: AsyncSession) -> None:
    # Given a wallet with 50
    payer = await open_account(session, balance=50)
    payee = await open_account(session)
    before = await snapshot(session)
    # When it tries to send 51
    with pytest.raises(DomainError) as refused:
        await ledger.transfer(session, payer.id, payee.id, 51, "USD", "t-too-much", "test.transfer")
    # Then it is refused with the exact code, and the book is as it was
    assert refused.value.code == "INSUFFICIENT_FUNDS"
    assert await snapshot(session) == before
    assert await ledger.find_entry(session, "t-too-much") is None


async def test_an_overdraft_account_may_go_below_zero(session: AsyncSession) -> None:
    # Given a clearing account that is allowed to go negative
    source = await open_account(session, kind="clearing", owner_type="platform", allow_negative=True)
    payee = await open_account(session)
    # When it sends more than it has
    await ledger.transfer(session, source.id, payee.id, 500, "USD", "t-overdraft", "test.transfer")
    # Then it is simply negative
    assert await available(session, source.id) == -500


async def test_the_same_key_again_returns_the_first_entry_and_writes_nothing(session: AsyncSession) -> None:
    # Given a transfer already posted under a key
    payer = await open_account(session, balance=100)
    payee = await open_account(session)
    first = await ledger.transfer(session, payer.id, payee.id, 40, "USD", "t-once", "test.transfer")
    before = await snapshot(session)
    # When the same transfer arrives again (a retried request)
    again = await ledger.transfer(session, payer.id, payee.id, 40, "USD", "t-once", "test.transfer")
    # Then it is the first entry, marked as a replay, and nothing moved twice
    assert again.id == first.id and again.replayed is True
    assert again.postings == first.postings
    assert await snapshot(session) == before
    assert await available(session, payer.id) == 60


async def test_a_replay_after_the_funds_are_spent_still_returns_the_first_entry(session: AsyncSession) -> None:
    # Given a wallet that sent everything it had under a key
    payer = await open_account(session, balance=40)
    payee = await open_account(session)
    first = await ledger.transfer(session, payer.id, payee.id, 40, "USD", "t-all", "test.transfer")
    # When the request is retried (a second debit would now overdraw)
    again = await ledger.transfer(session, payer.id, payee.id, 40, "USD", "t-all", "test.transfer")
    # Then the retry gets the first entry, not INSUFFICIENT_FUNDS
    assert again.id == first.id and again.replayed


async def test_the_same_key_with_other_postings_is_a_conflict(session: AsyncSession) -> None:
    # Given a transfer posted under a key
    payer = await open_account(session, balance=100)
    payee = await open_account(session)
    await ledger.transfer(session, payer.id, payee.id, 40, "USD", "t-conflict", "test.transfer")
    before = await snapshot(session)
    # When the key comes back with another amount
    with pytest.raises(DomainError) as refused:
        await ledger.transfer(session, payer.id, payee.id, 41, "USD", "t-conflict", "test.transfer")
    # Then it is an idempotency conflict and nothing changed
    assert refused.value.code == "IDEMPOTENCY_CONFLICT"
    assert await snapshot(session) == before


BAD_ENTRIES: list[tuple[str, Any, str]] = [
    ("one posting", lambda a, b, p: [PostingSpec(a, 5, "USD")], "INVALID_ENTRY"),
    ("not zero-sum", lambda a, b, p: [PostingSpec(a, -5, "USD"), PostingSpec(b, 4, "USD")], "UNBALANCED_ENTRY"),
    ("a zero amount", lambda a, b, p: [PostingSpec(a, 0, "USD"), PostingSpec(b, 0, "USD")], "INVALID_AMOUNT"),
    ("a non-integer amount", lambda a, b, p: [PostingSpec(a, -1.5, "USD"), PostingSpec(b, 1.5, "USD")],
     "INVALID_AMOUNT"),
    ("an unknown asset", lambda a, b, p: [PostingSpec(a, -5, "XYZ"), PostingSpec(b, 5, "XYZ")], "INVALID_ASSET"),
    ("another asset than the account's", lambda a, b, p: [PostingSpec(a, -5, "EUR"), PostingSpec(b, 5, "EUR")],
     "ASSET_MISMATCH"),
    ("one account twice", lambda a, b, p: [PostingSpec(a, -5, "USD"), PostingSpec(a, 5, "USD")], "INVALID_ENTRY"),
    ("an unknown account", lambda a, b, p: [PostingSpec(a, -5, "USD"), PostingSpec(uuid.uuid4(), 5, "USD")],
     "NOT_FOUND"),
    ("points against money", lambda a, b, p: [PostingSpec(a, -5, "USD"), PostingSpec(p, 5, "POINTS")],
     "UNBALANCED_ENTRY"),
]


@pytest.mark.parametrize(("case", "build", "code"), BAD_ENTRIES, ids=[case for case, _, _ in BAD_ENTRIES])
async def test_a_malformed_entry_is_refused_with_its_code(
    session: AsyncSession, case: str, build: Any, code: str
) -> None:
    # Given funded accounts
    a = await open_account(session, balance=100)
    b = await open_account(session)
    points = await open_account(session, asset="POINTS", kind="points")
    before = await snapshot(session)
    # When a malformed entry is posted
    with pytest.raises(DomainError) as refused:
        await ledger.post(session, EntrySpec(f"bad-{case}", "test.bad", build(a.id, b.id, points.id)))
    # Then it is refused with the exact code, and nothing changed
    assert refused.value.code == code
    assert await snapshot(session) == before


@pytest.mark.parametrize("amount", [0, -5, True])
async def test_a_transfer_needs_a_positive_amount(session: AsyncSession, amount: int) -> None:
    a = await open_account(session, balance=100)
    b = await open_account(session)
    with pytest.raises(DomainError) as refused:
        await ledger.transfer(session, a.id, b.id, amount, "USD", "t-bad-amount", "test.transfer")
    assert refused.value.code == "INVALID_AMOUNT"


async def test_points_are_an_asset_like_any_currency(session: AsyncSession) -> None:
    # Given a child's points account and the platform's points pool
    pool = await ledger.platform_account(session, "POINTS", "points", allow_negative=True)
    child = await ledger.get_or_create_account(session, "child", uuid.uuid4(), "POINTS", "points")
    # When a task pays 15 points
    await ledger.transfer(session, pool.id, child.id, 15, "POINTS", "task-1:reward", "family.task_reward")
    # Then the child has them
    assert await ledger.balance(session, child.id) == ledger.Balance(child.id, "POINTS", available=15)


async def test_an_account_already_loaded_sees_its_new_balance(session: AsyncSession) -> None:
    # Given an account object the caller holds
    payer = await open_account(session, balance=100)
    payee = await open_account(session)
    # When money moves
    await ledger.transfer(session, payer.id, payee.id, 25, "USD", "t-loaded", "test.transfer")
    # Then the object in hand is not stale
    assert (payer.balance, payee.balance) == (75, 25)
    assert (await session.scalar(select(LedgerAccount.version).where(LedgerAccount.id == payer.id))) == payer.version


async def test_a_transfer_takes_few_statements(session: AsyncSession, backend: Backend) -> None:
    # Given two funded accounts
    payer = await open_account(session, balance=100)
    payee = await open_account(session)
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.split()[0].upper())

    # When one transfer is posted
    event.listen(backend.engine.sync_engine, "before_cursor_execute", count)
    try:
        await ledger.transfer(session, payer.id, payee.id, 10, "USD", "t-counted", "test.transfer")
    finally:
        event.remove(backend.engine.sync_engine, "before_cursor_execute", count)
    # Then lock, check and write are one statement on PostgreSQL (four on SQLite, where a
    # statement is a function call, not a round trip)
    if backend.is_postgres:
        assert statements == ["WITH"]
    else:
        assert statements == ["SELECT", "INSERT", "UPDATE", "INSERT"]
