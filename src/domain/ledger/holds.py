"""Holds: two-phase movements for withdrawals and payouts that wait on an outside party.

A hold is real money movement, not a flag. Placing one posts an entry from the account into
its owner's `holds` account (one per owner and asset), so the account's balance (what it can
spend) drops at once and no later spend can use the reserved funds. The hold row records the
state: pending, then either

- posted (captured): an entry moves the held amount out of the holds account to the
  destination (a partial capture returns the rest to the account in the same entry), or
- voided: an entry moves it all back to the account.

Everything stays double-entry, so verify checks holds with the rest of the book, plus one
rule of their own: a holds account's balance equals the sum of its pending holds.
A hold row is locked (FOR UPDATE) before the accounts, so capture and void cannot both win.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.ledger import JournalEntry, LedgerHold
from domain.errors import NotFound
from domain.ledger.accounts import get_account, get_or_create_account
from domain.ledger.errors import IdempotencyConflict, LedgerCode, refused
from domain.ledger.service import MAX_AMOUNT, post
from domain.ledger.types import AccountKind, EntrySpec, PostingSpec
from tally.clock import clock


class HoldStatus(StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"


async def place_hold(
    session: AsyncSession,
    account_id: uuid.UUID,
    amount: int,
    idempotency_key: str,
    reason: str,
    *,
    memo: str | None = None,
    reference_type: str | None = None,
    reference_id: str | None = None,
) -> LedgerHold:
    """Reserve `amount` of the account's funds (INSUFFICIENT_FUNDS if it has not got them)."""
    _check_amount(amount)
    account = await get_account(session, account_id)
    if account.kind == AccountKind.HOLDS:
        raise refused(LedgerCode.INVALID_ENTRY, "Funds on hold cannot be held again.", "account_id")
    # A savepoint, so a refused hold does not leave a freshly opened holds account behind.
    async with session.begin_nested():
        holding = await get_or_create_account(
            session, account.owner_type, account.owner_id, account.asset, AccountKind.HOLDS
        )
        entry = await post(
            session,
            EntrySpec(
                idempotency_key=idempotency_key,
                reason=reason,
                postings=(
                    PostingSpec(account.id, -amount, account.asset),
                    PostingSpec(holding.id, amount, account.asset),
                ),
                memo=memo,
                reference_type=reference_type,
                reference_id=reference_id,
            ),
        )
    if entry.replayed:
        hold = await session.scalar(select(LedgerHold).where(LedgerHold.place_entry_id == entry.id))
        if hold is None:
            # The key names an ordinary entry that happens to move the same amounts.
            raise IdempotencyConflict(idempotency_key)
        return hold
    hold = LedgerHold(
        id=uuid.uuid4(),
        account_id=account.id,
        holding_account_id=holding.id,
        asset=account.asset,
        amount=amount,
        captured_amount=0,
        status=HoldStatus.PENDING.value,
        place_entry_id=entry.id,
        reason=reason,
        reference_type=reference_type,
        reference_id=reference_id,
        created_at=entry.created_at,
    )
    session.add(hold)
    await session.flush()
    return hold


async def capture_hold(
    session: AsyncSession,
    hold_id: uuid.UUID,
    destination_id: uuid.UUID,
    idempotency_key: str,
    *,
    amount: int | None = None,
    reason: str = "hold.capture",
    memo: str | None = None,
) -> LedgerHold:
    """Pay the held funds (all, or `amount` of them, the rest going back) to `destination_id`."""
    hold = await _lock(session, hold_id)
    if hold.status != HoldStatus.PENDING:
        return await _already_settled(session, hold, idempotency_key, HoldStatus.POSTED)
    captured = hold.amount if amount is None else amount
    _check_amount(captured)
    if captured > hold.amount:
        raise refused(LedgerCode.INVALID_AMOUNT, "A capture cannot exceed the amount held.", "amount")
    if destination_id in (hold.account_id, hold.holding_account_id):
        raise refused(LedgerCode.INVALID_ENTRY, "Capture pays another account; void returns the funds.",
                      "destination_id")
    lines = [
        PostingSpec(hold.holding_account_id, -hold.amount, hold.asset),
        PostingSpec(destination_id, captured, hold.asset),
    ]
    if captured < hold.amount:
        lines.append(PostingSpec(hold.account_id, hold.amount - captured, hold.asset))
    await _settle(session, hold, HoldStatus.POSTED, captured, idempotency_key, reason, memo, lines)
    return hold


async def void_hold(
    session: AsyncSession,
    hold_id: uuid.UUID,
    idempotency_key: str,
    *,
    reason: str = "hold.void",
    memo: str | None = None,
) -> LedgerHold:
    """Give the held funds back to the account (the outside party said no, or the user cancelled)."""
    hold = await _lock(session, hold_id)
    if hold.status != HoldStatus.PENDING:
        return await _already_settled(session, hold, idempotency_key, HoldStatus.VOIDED)
    lines = [
        PostingSpec(hold.holding_account_id, -hold.amount, hold.asset),
        PostingSpec(hold.account_id, hold.amount, hold.asset),
    ]
    await _settle(session, hold, HoldStatus.VOIDED, 0, idempotency_key, reason, memo, lines)
    return hold


async def get_hold(session: AsyncSession, hold_id: uuid.UUID) -> LedgerHold:
    hold = await session.scalar(
        select(LedgerHold).where(LedgerHold.id == hold_id).execution_options(populate_existing=True)
    )
    if hold is None:
        raise NotFound("hold", field="hold_id")
    return hold


async def _lock(session: AsyncSession, hold_id: uuid.UUID) -> LedgerHold:
    hold = await session.scalar(
        select(LedgerHold)
        .where(LedgerHold.id == hold_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if hold is None:
        raise NotFound("hold", field="hold_id")
    return hold


async def _settle(
    session: AsyncSession,
    hold: LedgerHold,
    status: HoldStatus,
    captured: int,
    idempotency_key: str,
    reason: str,
    memo: str | None,
    lines: list[PostingSpec],
) -> None:
    entry = await post(
        session,
        EntrySpec(
            idempotency_key=idempotency_key,
            reason=reason,
            postings=lines,
            memo=memo,
            reference_type=hold.reference_type,
            reference_id=hold.reference_id,
        ),
    )
    if entry.replayed:
        # The hold is pending, so this key belongs to some other entry.
        raise IdempotencyConflict(idempotency_key)
    hold.status = status.value
    hold.captured_amount = captured
    hold.settle_entry_id = entry.id
    hold.settled_at = clock.now()
    await session.flush()


async def _already_settled(
    session: AsyncSession, hold: LedgerHold, idempotency_key: str, wanted: HoldStatus
) -> LedgerHold:
    """A retry of the call that settled the hold gets the hold back; anything else is refused."""
    key = await session.scalar(select(JournalEntry.idempotency_key).where(JournalEntry.id == hold.settle_entry_id))
    if hold.status == wanted and key == idempotency_key:
        return hold
    raise refused(LedgerCode.HOLD_NOT_PENDING, f"The hold is already {hold.status}.", "hold_id")


def _check_amount(amount: object) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= MAX_AMOUNT:
        raise refused(LedgerCode.INVALID_AMOUNT, "The amount must be a positive whole number.", "amount")
