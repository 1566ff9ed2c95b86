"""Points through the ledger: the family's accounts, rewards paid in, gifts paid out.

Every point is a ledger posting. Rewards come from the platform's "rewards" account (it may go
below zero: it is where points are minted), so the book always balances; a child's account and
a parent's account may not. Each movement carries a deterministic idempotency key, so a
retried or concurrent request pays at most once.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from db.models.ledger import LedgerAccount
from domain import ledger
from domain.errors import DomainError
from domain.family.errors import FamilyCode, refuse
from domain.ledger import AccountKind, LedgerCode, OwnerType

REWARDS_KIND = "rewards"
TASK_REWARD = "family.task_reward"
GIFT_ACTIVATED = "family.gift_activated"
CHILD_REMOVED = "family.child_removed"


async def user_points_account(session: AsyncSession, user_id: uuid.UUID) -> LedgerAccount:
    """A user's (child's or parent's) POINTS account, opened at zero on first use."""
    return await ledger.get_or_create_account(session, OwnerType.USER, user_id, ledger.POINTS, AccountKind.POINTS)


async def rewards_account(session: AsyncSession) -> LedgerAccount:
    return await ledger.platform_account(session, ledger.POINTS, REWARDS_KIND, allow_negative=True)


def task_reward_key(task_id: uuid.UUID) -> str:
    return f"family:task:{task_id}:reward"


async def pay_task_reward(
    session: AsyncSession, task_id: uuid.UUID, child_account_id: uuid.UUID, amount: int, question: str
) -> ledger.Entry:
    source = await rewards_account(session)
    return await ledger.transfer(
        session, source.id, child_account_id, amount, ledger.POINTS, task_reward_key(task_id), TASK_REWARD,
        memo=question[:500], reference_type="family_task", reference_id=str(task_id),
    )


async def pay_for_gift(
    session: AsyncSession, gift_id: uuid.UUID, child_account_id: uuid.UUID, parent_id: uuid.UUID, amount: int,
    title: str,
) -> ledger.Entry:
    """Move the gift's threshold from the child to the parent, all or nothing."""
    destination = await user_points_account(session, parent_id)
    try:
        return await ledger.transfer(
            session, child_account_id, destination.id, amount, ledger.POINTS, f"family:gift:{gift_id}:activate",
            GIFT_ACTIVATED, memo=title[:500], reference_type="family_gift", reference_id=str(gift_id),
        )
    except DomainError as exc:
        if exc.code == LedgerCode.INSUFFICIENT_FUNDS:
            raise refuse(
                FamilyCode.INSUFFICIENT_POINTS, f"Opening this gift takes {amount} points.", "giftId"
            ) from None
        raise


async def return_points(session: AsyncSession, child_id: uuid.UUID, child_account_id: uuid.UUID) -> None:
    """A removed child's points go back where rewards come from, so none are left ownerless."""
    account = await ledger.get_account(session, child_account_id)
    if account.balance <= 0:
        return
    destination = await rewards_account(session)
    await ledger.transfer(
        session, child_account_id, destination.id, account.balance, ledger.POINTS,
        f"family:child:{child_id}:removed", CHILD_REMOVED, reference_type="family_child", reference_id=str(child_id),
    )
