"""Family mutations. Parents (adult accounts) manage children, set tasks and send gifts;
children open and answer tasks and open gifts. Each runs through graph.mutations.mutate."""

from __future__ import annotations

import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay
from strawberry.types import Info

from domain.actor import Role
from domain.family import answers, children, gifts, tasks
from graph.family.gifts import Gift
from graph.family.inputs import (
    ActivateGiftInput,
    AddChildInput,
    CreateTaskInput,
    OpenTaskInput,
    RemoveChildInput,
    ResetChildPasswordInput,
    SendGiftInput,
    SubmitTaskAnswerInput,
    UpdateChildInput,
)
from graph.family.tasks import Task, TaskAnswer, TaskResult
from graph.family.types import Child, FamilyError
from graph.mutations import mutate
from graph.node import parse_uuid, resolve_node_id
from graph.permissions import HasRole

PARENT = [HasRole.at_least(Role.MEMBER)]
CHILD = [HasRole.exactly(Role.CHILD)]


def node_uuid(global_id: strawberry.ID, node_type: type[relay.Node]) -> uuid.UUID | None:
    """The UUID inside a global ID of `node_type`; None for anything else (answered NOT_FOUND)."""
    return parse_uuid(resolve_node_id(str(global_id), node_type))


@strawberry.type
class AddChildPayload:
    child: Child | None = None
    errors: list[FamilyError] = strawberry.field(default_factory=list)


@strawberry.type
class UpdateChildPayload:
    child: Child | None = None
    errors: list[FamilyError] = strawberry.field(default_factory=list)


@strawberry.type
class RemoveChildPayload:
    removed_child_id: strawberry.ID | None = None
    errors: list[FamilyError] = strawberry.field(default_factory=list)


@strawberry.type
class ResetChildPasswordPayload:
    child: Child | None = None
    errors: list[FamilyError] = strawberry.field(default_factory=list)


@strawberry.type
class CreateTaskPayload:
    task: Task | None = None
    errors: list[FamilyError] = strawberry.field(default_factory=list)


@strawberry.type
class OpenTaskPayload:
    task: Task | None = None
    errors: list[FamilyError] = strawberry.field(default_factory=list)


@strawberry.type
class SubmitTaskAnswerPayload:
    result: TaskResult | None = None
    task: Task | None = None
    child: Child | None = None
    unlocked_gifts: list[Gift] = strawberry.field(
        default_factory=list, description="Gifts this answer's points unlocked."
    )
    errors: list[FamilyError] = strawberry.field(default_factory=list)


@strawberry.type
class SendGiftPayload:
    gift: Gift | None = None
    errors: list[FamilyError] = strawberry.field(default_factory=list)


@strawberry.type
class ActivateGiftPayload:
    gift: Gift | None = None
    child: Child | None = None
    errors: list[FamilyError] = strawberry.field(default_factory=list)


@strawberry.type
class FamilyMutation:
    @strawberry.mutation(permission_classes=PARENT, description="Create a child account (signs in with username).")
    async def add_child(self, info: Info, input: AddChildInput) -> AddChildPayload | None:
        data = children.NewChild(name=input.name, username=input.username, password=input.password,
                                 birthday=input.birthday)

        async def call(session: AsyncSession) -> AddChildPayload:
            return AddChildPayload(child=Child.from_model(await children.add_child(session, info.context.actor, data)))

        return await mutate(info, call, AddChildPayload, FamilyError)

    @strawberry.mutation(permission_classes=PARENT, description="Rename a child or change their birthday.")
    async def update_child(self, info: Info, input: UpdateChildInput) -> UpdateChildPayload | None:
        data = children.ChildChanges(
            child_id=node_uuid(input.child_id, Child),
            name=input.name if input.name is not strawberry.UNSET else None,
            birthday=input.birthday if input.birthday is not strawberry.UNSET else None,
            set_birthday=input.birthday is not strawberry.UNSET,
        )

        async def call(session: AsyncSession) -> UpdateChildPayload:
            row = await children.update_child(session, info.context.actor, data)
            return UpdateChildPayload(child=Child.from_model(row))

        return await mutate(info, call, UpdateChildPayload, FamilyError)

    @strawberry.mutation(permission_classes=PARENT,
                         description="Delete a child's account, tasks and gifts; their points go back.")
    async def remove_child(self, info: Info, input: RemoveChildInput) -> RemoveChildPayload | None:
        async def call(session: AsyncSession) -> RemoveChildPayload:
            removed = await children.remove_child(session, info.context.actor, node_uuid(input.child_id, Child))
            return RemoveChildPayload(removed_child_id=strawberry.ID(relay.to_base64(Child, removed)))

        return await mutate(info, call, RemoveChildPayload, FamilyError)

    @strawberry.mutation(permission_classes=PARENT, description="Set a new password for a child.")
    async def reset_child_password(
        self, info: Info, input: ResetChildPasswordInput
    ) -> ResetChildPasswordPayload | None:
        async def call(session: AsyncSession) -> ResetChildPasswordPayload:
            row = await children.reset_child_password(
                session, info.context.actor, node_uuid(input.child_id, Child), input.new_password
            )
            return ResetChildPasswordPayload(child=Child.from_model(row))

        return await mutate(info, call, ResetChildPasswordPayload, FamilyError)

    @strawberry.mutation(permission_classes=PARENT, description="Set a quiz task for a child; the child is told.")
    async def create_task(self, info: Info, input: CreateTaskInput) -> CreateTaskPayload | None:
        data = tasks.NewTask(
            child_id=node_uuid(input.child_id, Child), question=input.question,
            answers=[tasks.NewAnswer(text=a.text, correct=a.correct) for a in input.answers],
            points_reward=input.points_reward, subject=input.subject,
        )

        async def call(session: AsyncSession) -> CreateTaskPayload:
            return CreateTaskPayload(task=Task.from_model(await tasks.create_task(session, info.context.actor, data)))

        return await mutate(info, call, CreateTaskPayload, FamilyError)

    @strawberry.mutation(permission_classes=CHILD, description="The child opened the task (the first time counts).")
    async def open_task(self, info: Info, input: OpenTaskInput) -> OpenTaskPayload | None:
        async def call(session: AsyncSession) -> OpenTaskPayload:
            row = await tasks.open_task(session, info.context.actor, node_uuid(input.task_id, Task))
            return OpenTaskPayload(task=Task.from_model(row))

        return await mutate(info, call, OpenTaskPayload, FamilyError)

    @strawberry.mutation(
        permission_classes=CHILD,
        description="Answer a task. The first correct answer completes it and pays its reward, once.",
    )
    async def submit_task_answer(self, info: Info, input: SubmitTaskAnswerInput) -> SubmitTaskAnswerPayload | None:
        actor = info.context.actor
        task_id, answer_id = node_uuid(input.task_id, Task), node_uuid(input.answer_id, TaskAnswer)

        async def call(session: AsyncSession) -> SubmitTaskAnswerPayload:
            done = await answers.submit_answer(session, actor, task_id, answer_id)
            child = await children.load_child(session, actor, done.child_id)
            return SubmitTaskAnswerPayload(
                result=TaskResult.from_model(done.attempt), task=Task.from_model(done.task),
                child=Child.from_model(child) if child else None,
                unlocked_gifts=[Gift.from_model(gift) for gift in done.unlocked_gifts],
            )

        return await mutate(info, call, SubmitTaskAnswerPayload, FamilyError)

    @strawberry.mutation(
        permission_classes=PARENT,
        description="Hide a gift for a child; it unlocks when their points reach the threshold.",
    )
    async def send_gift(self, info: Info, input: SendGiftInput) -> SendGiftPayload | None:
        data = gifts.NewGift(child_id=node_uuid(input.child_id, Child), title=input.title,
                             points_threshold=input.points_threshold, message=input.message)

        async def call(session: AsyncSession) -> SendGiftPayload:
            return SendGiftPayload(gift=Gift.from_model(await gifts.send_gift(session, info.context.actor, data)))

        return await mutate(info, call, SendGiftPayload, FamilyError)

    @strawberry.mutation(
        permission_classes=CHILD,
        description="Open an unlocked gift: its threshold in points goes to the parent, all or nothing.",
    )
    async def activate_gift(self, info: Info, input: ActivateGiftInput) -> ActivateGiftPayload | None:
        actor = info.context.actor

        async def call(session: AsyncSession) -> ActivateGiftPayload:
            done = await gifts.activate_gift(session, actor, node_uuid(input.gift_id, Gift))
            child = await children.load_child(session, actor, done.child.user_id)
            return ActivateGiftPayload(
                gift=Gift.from_model(done.gift), child=Child.from_model(child) if child else None
            )

        return await mutate(info, call, ActivateGiftPayload, FamilyError)
