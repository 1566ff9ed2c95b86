"""Real concurrency on PostgreSQL: every task its own session and transaction, really committed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.ledger import JournalEntry, LedgerAccount
from db.unit_of_work import transaction
from domain import ledger
from domain.errors import DomainError
from domain.ledger import HoldStatus
from tally.runtime import Runtime
from tests.ledger.factories import available, open_account

pytestmark = [pytest.mark.postgres, pytest.mark.committed]

T = TypeVar("T")


async def in_own_transaction(runtime: Runtime, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async with transaction(runtime.database) as session:
        return await work(session)


async def all_at_once(runtime: Runtime, works: list[Callable[[AsyncSession], Awaitable[Any]]]) -> list[Any]:
    """Run each piece of work in its own transaction, concurrently; refusals come back as errors."""
    return await asyncio.gather(*(in_own_transaction(runtime, work) for work in works), return_exceptions=True)


async def test_100_concurrent_debits_against_a_balance_for_50_apply_exactly_50(committed_runtime: Runtime) -> None:
    # Given a wallet holding exactly 50 debits of 10
    async def given(session: AsyncSession) -> tuple[uuid.UUID, uuid.UUID]:
        wallet = await open_account(session, balance=500)
        shop = await open_account(session)
        return wallet.id, shop.id

    wallet_id, shop_id = await in_own_transaction(committed_runtime, given)

    # When 100 debits race, each in its own transaction
    def debit(n: int) -> Callable[[AsyncSession], Awaitable[Any]]:
        return lambda s: ledger.transfer(s, wallet_id, shop_id, 10, "USD", f"debit-{n}", "test.debit")

    results = await all_at_once(committed_runtime, [debit(n) for n in range(100)])

    # Then exactly 50 went through, the other 50 were refused for funds, and nothing else happened
    applied = [r for r in results if isinstance(r, ledger.Entry)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(applied) == 50 and len(refused) == 50, [r for r in results if isinstance(r, Exception)][:3]
    assert {r.code for r in refused} == {"INSUFFICIENT_FUNDS"}

    async def then(session: AsyncSession) -> None:
        assert await available(session, wallet_id) == 0
        assert await available(session, shop_id) == 500
        report = await ledger.verify(session)
        assert report.ok, report.summary()

    await in_own_transaction(committed_runtime, then)
    assert (await ledger.run_verify(committed_runtime.database)).ok


async def test_50_concurrent_posts_with_one_key_apply_once(committed_runtime: Runtime) -> None:
    # Given a funded wallet
    async def given(session: AsyncSession) -> tuple[uuid.UUID, uuid.UUID]:
        wallet = await open_account(session, balance=1000)
        shop = await open_account(session)
        return wallet.id, shop.id

    wallet_id, shop_id = await in_own_transaction(committed_runtime, given)

    # When the same request arrives 50 times at once
    results = await all_at_once(committed_runtime, [
        lambda s: ledger.transfer(s, wallet_id, shop_id, 70, "USD", "order-1:pay", "shop.pay") for _ in range(50)
    ])

    # Then all 50 callers got the one entry, only one of them wrote it, and 70 moved once
    assert all(isinstance(r, ledger.Entry) for r in results), results
    assert len({r.id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1

    async def then(session: AsyncSession) -> None:
        assert (await available(session, wallet_id), await available(session, shop_id)) == (930, 70)
        count = select(func.count()).select_from(JournalEntry).where(JournalEntry.idempotency_key == "order-1:pay")
        assert await session.scalar(count) == 1

    await in_own_transaction(committed_runtime, then)


async def test_one_key_racing_over_different_accounts_applies_once_and_the_rest_conflict(
    committed_runtime: Runtime,
) -> None:
    # Given 20 wallets, each able to pay
    async def given(session: AsyncSession) -> list[uuid.UUID]:
        return [(await open_account(session, balance=100)).id for _ in range(21)]

    wallets = await in_own_transaction(committed_runtime, given)
    shop = wallets.pop()

    # When each tries to pay under the same key (no shared account lock: only the key's index decides)
    results = await all_at_once(committed_runtime, [
        partial(ledger.transfer, source_id=w, destination_id=shop, amount=10, asset="USD",
                idempotency_key="shared-key", reason="test.pay")
        for w in wallets
    ])

    # Then one entry exists and every other caller was told its postings conflict
    assert sum(isinstance(r, ledger.Entry) for r in results) == 1
    assert {r.code for r in results if isinstance(r, DomainError)} == {"IDEMPOTENCY_CONFLICT"}
    assert (await ledger.run_verify(committed_runtime.database)).ok


async def test_crossing_transfers_never_deadlock(committed_runtime: Runtime) -> None:
    # Given three wallets
    async def given(session: AsyncSession) -> list[uuid.UUID]:
        return [(await open_account(session, balance=10_000)).id for _ in range(3)]

    a, b, c = await in_own_transaction(committed_runtime, given)
    pairs = [(a, b), (b, a), (b, c), (c, b), (c, a), (a, c)] * 10

    # When transfers run both ways between every pair at once
    results = await all_at_once(committed_runtime, [
        partial(ledger.transfer, source_id=src, destination_id=dst, amount=1, asset="USD",
                idempotency_key=f"x-{n}", reason="test.cross")
        for n, (src, dst) in enumerate(pairs)
    ])

    # Then every one of them went through (locks are taken in id order) and the book balances
    assert all(isinstance(r, ledger.Entry) for r in results), [r for r in results if isinstance(r, Exception)][:3]
    assert (await ledger.run_verify(committed_runtime.database)).ok


async def test_opening_one_account_concurrently_makes_one_row(committed_runtime: Runtime) -> None:
    owner = uuid.uuid4()
    results = await all_at_once(committed_runtime, [
        lambda s: ledger.get_or_create_account(s, "user", owner, "USD", "wallet") for _ in range(20)
    ])
    assert len({r.id for r in results}) == 1, results

    async def then(session: AsyncSession) -> None:
        assert await session.scalar(select(func.count()).select_from(LedgerAccount).where(
            LedgerAccount.owner_id == owner)) == 1

    await in_own_transaction(committed_runtime, then)


async def test_a_capture_and_a_void_racing_on_one_hold_settle_it_once(committed_runtime: Runtime) -> None:
    # Given a pending hold
    async def given(session: AsyncSession) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
        wallet = await open_account(session, balance=100)
        bank = await open_account(session, kind="clearing", allow_negative=True)
        hold = await ledger.place_hold(session, wallet.id, 60, "race:hold", "wallet.withdrawal")
        return wallet.id, bank.id, hold.id

    wallet_id, bank_id, hold_id = await in_own_transaction(committed_runtime, given)

    # When the bank's confirmation and the user's cancellation race, several times each
    results = await all_at_once(committed_runtime, [
        *(lambda s, n=n: ledger.capture_hold(s, hold_id, bank_id, f"race:capture:{n}") for n in range(5)),
        *(lambda s, n=n: ledger.void_hold(s, hold_id, f"race:void:{n}") for n in range(5)),
    ])

    # Then one of them settled the hold and the other nine were refused
    assert sum(not isinstance(r, Exception) for r in results) == 1, results
    assert {r.code for r in results if isinstance(r, DomainError)} == {"HOLD_NOT_PENDING"}

    async def then(session: AsyncSession) -> None:
        hold = await ledger.get_hold(session, hold_id)
        expected_wallet = 40 if hold.status == HoldStatus.POSTED else 100
        assert await available(session, wallet_id) == expected_wallet

    await in_own_transaction(committed_runtime, then)
    assert (await ledger.run_verify(committed_runtime.database)).ok


async def test_verify_reads_a_consistent_book_while_transfers_run(committed_runtime: Runtime) -> None:
    # Given ten funded wallets
    async def given(session: AsyncSession) -> list[uuid.UUID]:
        return [(await open_account(session, balance=1_000)).id for _ in range(10)]

    wallets = await in_own_transaction(committed_runtime, given)

    async def transfers() -> list[Any]:
        return await all_at_once(committed_runtime, [
            partial(ledger.transfer, source_id=wallets[n % 10], destination_id=wallets[(n * 7 + 1) % 10], amount=3,
                    asset="USD", idempotency_key=f"live-{n}", reason="test.live")
            for n in range(150)
        ])

    # When verify runs again and again while 150 transfers commit around it
    reports, moved = await asyncio.gather(
        asyncio.gather(*(ledger.run_verify(committed_runtime.database) for _ in range(6))), transfers()
    )

    # Then every run saw a sound book (one snapshot each), and the transfers all went through
    assert all(report.ok for report in reports), [r.summary() for r in reports if not r.ok]
    assert all(isinstance(r, ledger.Entry) for r in moved), [r for r in moved if isinstance(r, Exception)][:3]
