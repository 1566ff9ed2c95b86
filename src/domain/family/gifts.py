"""Gifts a parent hides for a child: SENT (invisible to the child), UNLOCKED once the child's
points reach the threshold, ACTIVATED when the child opens it and pays the threshold.

Unlocking happens in the transaction that credited the points (answers call `unlock_reached`
with the balance the ledger just wrote), or at once when a gift is sent to a child who already
has enough. Both paths lock the child's family row first, so a gift sent while a reward is
being credited is decided after it. Opening locks the gift row and moves the points through
the ledger under a key of the gift's, so two taps open it once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.family import FamilyChild, FamilyEntitlement, FamilyGift
from domain import ledger
from domain.actor import Actor
from domain.errors import DomainError, Validator
from domain.family import notices, points
from domain.family.children import managed_child
from domain.family.errors import FamilyCode, not_found, refuse
from domain.family.policies import HIDDEN_GIFT_STATUS
from tally.clock import clock

SENT = HIDDEN_GIFT_STATUS
UNLOCKED = "UNLOCKED"
ACTIVATED = "ACTIVATED"
MAX_TITLE = 200
MAX_MESSAGE = 2000
MAX_THRESHOLD = 1_000_000


@dataclass(frozen=True)
class NewGift:
    child_id: uuid.UUID | None
    title: str
    points_threshold: int
    message: str | None = None


@dataclass
class Activation:
    gift: FamilyGift
    child: FamilyChild
    entitlement: FamilyEntitlement


async def send_gift(session: AsyncSession, actor: Actor, data: NewGift) -> FamilyGift:
    check = Validator()
    title = data.title.strip()
    message = (data.message or "").strip() or None
    check.check(0 < len(title) <= MAX_TITLE, "title", f"Give a title of 1 to {MAX_TITLE} characters.")
    if message is not None:
        check.check(len(message) <= MAX_MESSAGE, "message", f"Use at most {MAX_MESSAGE} characters.")
    check.check(0 < data.points_threshold <= MAX_THRESHOLD, "pointsThreshold",
                f"The threshold is 1 to {MAX_THRESHOLD:,} points.")
    try:
        child = await managed_child(session, actor, data.child_id, lock=True)
    except DomainError as missing:
        raise DomainError(*missing.problems, *check.problems) from None
    check.raise_if_any()
    now = clock.now()
    gift = FamilyGift(
        id=uuid.uuid4(), child_id=child.user_id, parent_id=child.parent_id, title=title, message=message,
        points_threshold=data.points_threshold, status=SENT, created_at=now, updated_at=now,
    )
    session.add(gift)
    await session.flush()
    # Read after the lock, in a statement of its own: the newest committed balance.
    balance = await ledger.balance(session, child.points_account_id)
    if balance.available >= gift.points_threshold:
        await unlock_reached(session, child, balance.available)
    return gift


async def unlock_reached(session: AsyncSession, child: FamilyChild, balance: int) -> list[FamilyGift]:
    """Unlock the child's SENT gifts whose threshold `balance` reaches; tell both people."""
    reached = list(
        (
            await session.scalars(
                select(FamilyGift)
                .where(
                    FamilyGift.child_id == child.user_id,
                    FamilyGift.status == SENT,
                    FamilyGift.points_threshold <= balance,
                )
                .order_by(FamilyGift.points_threshold, FamilyGift.created_at, FamilyGift.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).all()
    )
    now = clock.now()
    for gift in reached:
        gift.status = UNLOCKED
        gift.unlocked_at = now
        gift.updated_at = now
    await session.flush()
    for gift in reached:
        await notices.gift_unlocked(session, gift, child)
    return reached


async def activate_gift(session: AsyncSession, actor: Actor, gift_id: uuid.UUID | None) -> Activation:
    """The child opens an unlocked gift: its threshold in points goes to the parent."""
    gift = None
    if gift_id is not None and actor.user_id is not None:
        gift = await session.scalar(
            select(FamilyGift)
            # A SENT gift does not exist for the child, here as everywhere.
            .where(FamilyGift.id == gift_id, FamilyGift.child_id == actor.user_id, FamilyGift.status != SENT)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    if gift is None:
        raise not_found("gift", "giftId")
    if gift.status != UNLOCKED:
        raise refuse(FamilyCode.NOT_UNLOCKED, "This gift was already opened.", "giftId")
    child = await session.scalar(select(FamilyChild).where(FamilyChild.user_id == gift.child_id))
    assert child is not None, "a gift's child is deleted with it"
    entry = await points.pay_for_gift(
        session, gift.id, child.points_account_id, gift.parent_id, gift.points_threshold, gift.title
    )
    if entry.replayed:
        # Paid by an earlier transaction: only possible if the row lock was bypassed.
        raise refuse(FamilyCode.NOT_UNLOCKED, "This gift was already opened.", "giftId")
    now = clock.now()
    gift.status = ACTIVATED
    gift.activated_at = now
    gift.updated_at = now
    entitlement = FamilyEntitlement(
        id=uuid.uuid4(), gift_id=gift.id, child_id=gift.child_id, product_id=gift.product_id, entry_id=entry.id,
        created_at=now,
    )
    session.add(entitlement)
    await session.flush()
    await notices.gift_activated(session, gift, child)
    return Activation(gift=gift, child=child, entitlement=entitlement)
