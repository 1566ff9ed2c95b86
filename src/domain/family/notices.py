"""What the family tells people: in-app notifications (with email/SMS per their preferences)
and the realtime events subscriptions rebuild their payloads from.

Both go out only after the transaction commits (notify and publish buffer them), and events
carry ids only: a subscriber re-reads the object, seeing what a query would show them.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from db.models.family import FamilyChild, FamilyGift, FamilyTask
from domain.notifications.service import notify
from tally.effects import publish

GIFT_UNLOCKED = "gift_unlocked"


def user_channel(user_id: uuid.UUID) -> str:
    return f"user:{user_id}"


async def task_created(session: AsyncSession, task: FamilyTask) -> None:
    await notify(
        session, task.child_id, type="family.task_created", title="A new task for you",
        message=f"{task.question} ({task.points_reward} points)", data={"taskId": str(task.id)},
    )


async def try_again(session: AsyncSession, task: FamilyTask) -> None:
    await notify(
        session, task.child_id, type="family.try_again", title="Try again",
        message="That answer is not right. Have another go!", data={"taskId": str(task.id)},
    )


async def task_completed(session: AsyncSession, task: FamilyTask, child_name: str) -> None:
    await notify(
        session, task.child_id, type="family.task_completed", title="Well done!",
        message=f"You earned {task.points_reward} points.", data={"taskId": str(task.id)},
    )
    await notify(
        session, task.parent_id, type="family.task_completed", title=f"{child_name} finished a task",
        message=f"{task.question} (+{task.points_reward} points)",
        data={"taskId": str(task.id), "childId": str(task.child_id)},
    )


async def gift_unlocked(session: AsyncSession, gift: FamilyGift, child: FamilyChild) -> None:
    data = {"giftId": str(gift.id), "childId": str(gift.child_id)}
    await notify(
        session, gift.child_id, type="family.gift_unlocked", title="You unlocked a gift!",
        message=gift.title, style="MODAL", data=data,
    )
    await notify(
        session, gift.parent_id, type="family.gift_unlocked", title=f"{child.name} unlocked a gift",
        message=f"{gift.title} ({gift.points_threshold} points)", data=data,
    )
    # The subscription event goes to both people's own channels (nobody listens on another's).
    event = {"kind": GIFT_UNLOCKED, **data}
    publish(session, user_channel(gift.child_id), event)
    publish(session, user_channel(gift.parent_id), event)


async def gift_activated(session: AsyncSession, gift: FamilyGift, child: FamilyChild) -> None:
    await notify(
        session, gift.parent_id, type="family.gift_activated", title=f"{child.name} opened a gift",
        message=f"{gift.title} ({gift.points_threshold} points came to you)",
        data={"giftId": str(gift.id), "childId": str(gift.child_id)},
    )
