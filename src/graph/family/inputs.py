"""Family mutation inputs, as the client contract fixes them (plus the child-management ones)."""

from __future__ import annotations

from datetime import date

import strawberry


@strawberry.input
class AddChildInput:
    name: str
    username: str
    password: str
    birthday: date | None = None


@strawberry.input(description="Fields left out stay as they are; `birthday: null` clears it.")
class UpdateChildInput:
    child_id: strawberry.ID
    name: str | None = strawberry.UNSET
    birthday: date | None = strawberry.UNSET


@strawberry.input
class RemoveChildInput:
    child_id: strawberry.ID


@strawberry.input(description="A parent sets a new password for their child; the child's sign-ins end.")
class ResetChildPasswordInput:
    child_id: strawberry.ID
    new_password: str


@strawberry.input
class TaskAnswerInput:
    text: str
    correct: bool


@strawberry.input
class CreateTaskInput:
    child_id: strawberry.ID
    question: str
    answers: list[TaskAnswerInput]
    points_reward: int
    subject: str | None = None


@strawberry.input
class OpenTaskInput:
    task_id: strawberry.ID


@strawberry.input
class SubmitTaskAnswerInput:
    task_id: strawberry.ID
    answer_id: strawberry.ID


@strawberry.input
class SendGiftInput:
    child_id: strawberry.ID
    title: str
    points_threshold: int
    message: str | None = None


@strawberry.input
class ActivateGiftInput:
    gift_id: strawberry.ID
