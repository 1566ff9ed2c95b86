"""Who may see and do what in a family, in one place.

A parent (any adult account) sees and manages only the children they added; a child sees
themself, their tasks, their results and their gifts once unlocked, never a SENT gift and never
which answer is correct. Everyone else, staff included, sees nothing: another family's child
reads exactly like a missing one. Each rule is a SQL condition, so loaders, `node(id:)` and
services apply the same one in their queries.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, and_, false, select

from db.models.family import FamilyChild, FamilyGift, FamilyTask, FamilyTaskAnswer, FamilyTaskAttempt
from domain.actor import Actor, Role

HIDDEN_GIFT_STATUS = "SENT"


def is_parent(actor: Actor) -> bool:
    """Adults may have children; a child may not."""
    return actor.is_authenticated and actor.has_role_at_least(Role.MEMBER)


def is_child(actor: Actor) -> bool:
    return actor.is_authenticated and actor.role is Role.CHILD


def visible_children(actor: Actor) -> ColumnElement[bool]:
    if actor.user_id is None:
        return false()
    if is_child(actor):
        return FamilyChild.user_id == actor.user_id
    return FamilyChild.parent_id == actor.user_id


def managed_children(actor: Actor) -> ColumnElement[bool]:
    """The children `actor` may change (edit, set tasks for, send gifts to): their own."""
    if not is_parent(actor):
        return false()
    return FamilyChild.parent_id == actor.user_id


def visible_tasks(actor: Actor) -> ColumnElement[bool]:
    # A task's parent_id is the child's parent (a child never changes family).
    if actor.user_id is None:
        return false()
    if is_child(actor):
        return FamilyTask.child_id == actor.user_id
    return FamilyTask.parent_id == actor.user_id


def visible_answers(actor: Actor) -> ColumnElement[bool]:
    return FamilyTaskAnswer.task_id.in_(select(FamilyTask.id).where(visible_tasks(actor)))


def visible_attempts(actor: Actor) -> ColumnElement[bool]:
    if actor.user_id is None:
        return false()
    if is_child(actor):
        return FamilyTaskAttempt.child_id == actor.user_id
    return FamilyTaskAttempt.task_id.in_(select(FamilyTask.id).where(FamilyTask.parent_id == actor.user_id))


def visible_gifts(actor: Actor) -> ColumnElement[bool]:
    """The parent sees every gift they sent; the child only those unlocked (or opened)."""
    if actor.user_id is None:
        return false()
    if is_child(actor):
        return and_(FamilyGift.child_id == actor.user_id, FamilyGift.status != HIDDEN_GIFT_STATUS)
    return FamilyGift.parent_id == actor.user_id


def sees_correct_answer(actor: Actor, parent_id: uuid.UUID) -> bool:
    """Only the task's parent learns which answer is right; the child never does."""
    return is_parent(actor) and actor.user_id == parent_id


__all__ = [
    "is_child",
    "is_parent",
    "managed_children",
    "sees_correct_answer",
    "visible_answers",
    "visible_attempts",
    "visible_children",
    "visible_gifts",
    "visible_tasks",
]
