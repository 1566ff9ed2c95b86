"""Family fixtures: parents and their children made directly (fast), tasks and gifts through the
services, global ids, and the checks every scenario ends with (the ledger verifies clean)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from db.models.accounts import User
from db.models.family import FamilyChild, FamilyGift, FamilyTask, FamilyTaskAnswer
from db.models.notifications import Notification
from domain import ledger
from domain.actor import Actor, Role
from domain.family import answers, gifts, points, tasks
from tally.clock import Clock
from tests.accounts.conftest import Person, hash_of, make_person, sign_in

CHILD_PASSWORD = "a long child secret"


def gid(type_name: str, raw: Any) -> str:
    return relay.to_base64(type_name, str(raw))


def actor_of(person: Person) -> Actor:
    return Actor(user_id=person.user.id, role=Role(person.user.role))


@dataclass
class Family:
    parent: Person
    children: list[Person] = field(default_factory=list)

    @property
    def child(self) -> Person:
        return self.children[0]


async def make_child(session: AsyncSession, parent: Person, username: str, name: str | None = None) -> Person:
    """A CHILD user of `parent`'s, with its points account, signed in."""
    user = User(email=None, username=username, name=name or username.title(), role=Role.CHILD.value,
                password_hash=hash_of(CHILD_PASSWORD))
    session.add(user)
    await session.flush()
    account = await points.user_points_account(session, user.id)
    session.add(FamilyChild(user_id=user.id, parent_id=parent.user.id, points_account_id=account.id))
    await session.commit()
    return await sign_in(session, user)


async def make_family(session: AsyncSession, email: str, *usernames: str) -> Family:
    parent = await make_person(session, email=email, name=email.split("@")[0].title())
    family = Family(parent=parent)
    for username in usernames:
        family.children.append(await make_child(session, parent, username))
    return family


async def make_task(
    session: AsyncSession, family: Family, child: Person | None = None, *, reward: int = 10,
    question: str = "What is 6 x 7?", subject: str | None = "maths",
) -> FamilyTask:
    child = child or family.child
    task = await tasks.create_task(
        session, actor_of(family.parent),
        tasks.NewTask(child_id=child.user.id, question=question, points_reward=reward, subject=subject,
                      answers=[tasks.NewAnswer("42", True), tasks.NewAnswer("24", False),
                               tasks.NewAnswer("48", False)]),
    )
    await session.commit()
    return task


async def answer_of(session: AsyncSession, task: FamilyTask, correct: bool) -> FamilyTaskAnswer:
    found = await session.scalar(
        select(FamilyTaskAnswer)
        .where(FamilyTaskAnswer.task_id == task.id, FamilyTaskAnswer.correct.is_(correct))
        .order_by(FamilyTaskAnswer.position).limit(1)
    )
    assert found is not None
    return found


async def earn(session: AsyncSession, family: Family, amount: int, child: Person | None = None) -> FamilyTask:
    """The child earns `amount` points the real way: a task, answered right."""
    child = child or family.child
    task = await make_task(session, family, child, reward=amount, question=f"Worth {amount}? #{uuid.uuid4().hex[:6]}")
    right = await answer_of(session, task, True)
    await answers.submit_answer(session, actor_of(child), task.id, right.id)
    await session.commit()
    return task


async def make_gift(session: AsyncSession, family: Family, threshold: int, title: str = "A bike",
                    child: Person | None = None) -> FamilyGift:
    child = child or family.child
    gift = await gifts.send_gift(
        session, actor_of(family.parent),
        gifts.NewGift(child_id=child.user.id, title=title, points_threshold=threshold, message="Well done!"),
    )
    await session.commit()
    return gift


async def balance_of(session: AsyncSession, user_id: uuid.UUID) -> int:
    account = await points.user_points_account(session, user_id)
    return (await ledger.balance(session, account.id)).available


async def notifications_of(session: AsyncSession, user_id: uuid.UUID, type_: str | None = None) -> list[Notification]:
    query = select(Notification).where(Notification.recipient_id == user_id)
    if type_ is not None:
        query = query.where(Notification.type == type_)
    return list((await session.scalars(query.order_by(Notification.created_at))).all())


async def count_rows(session: AsyncSession, model: type, *where: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def assert_ledger_clean(session: AsyncSession) -> None:
    """`tally ledger verify` on the test's own transaction: no invariant broken."""
    report = await ledger.verify(await session.connection())
    assert report.ok, report.summary()


@pytest.fixture
def frozen_clock(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Time stands still but for clock.advance: exact durations, however slow the machine."""
    start, offset = clock.now(), clock._offset
    monkeypatch.setattr(clock, "now", lambda: start + (clock._offset - offset))
    return clock


@pytest.fixture
async def smiths(session: AsyncSession) -> Family:
    return await make_family(session, "pat@example.com", "kit")


@pytest.fixture
async def joneses(session: AsyncSession) -> Family:
    return await make_family(session, "jo@example.com", "max")


def errors_of(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(error["field"], error["code"]) for error in payload["errors"]]
