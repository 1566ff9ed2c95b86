"""The signed-in account's security (two-factor, password) and the emailed-link flows."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from domain.accounts import credentials, policies, recovery, registration, two_factor
from graph.accounts.inputs import (
    ChangePasswordInput,
    EnableTwoFactorInput,
    RequestPasswordResetInput,
    ResetPasswordInput,
    VerifyEmailInput,
)
from graph.accounts.mutations.runner import run
from graph.accounts.payloads import (
    ChangePasswordPayload,
    EnableTwoFactorPayload,
    RequestPasswordResetPayload,
    ResetPasswordPayload,
    VerifyEmailPayload,
)
from graph.accounts.types import User
from graph.permissions import HasRole, IsAuthenticated


@strawberry.type
class AccountMutation:
    @strawberry.mutation(
        description="Ask for a one-time code at every sign-in on an untrusted device.",
        permission_classes=[HasRole.at_least(policies.MANAGES_OWN_SECURITY)],
    )
    async def enable_two_factor(self, info: Info, input: EnableTwoFactorInput) -> EnableTwoFactorPayload | None:
        async def call(session: AsyncSession) -> EnableTwoFactorPayload:
            user = await two_factor.enable(session, info.context.actor, input.to_data())
            return EnableTwoFactorPayload(user=User.from_model(user))

        return await run(info, call, EnableTwoFactorPayload)

    @strawberry.mutation(
        description="Change the password; every other sign-in of the account ends.",
        permission_classes=[IsAuthenticated],
    )
    async def change_password(self, info: Info, input: ChangePasswordInput) -> ChangePasswordPayload | None:
        async def call(session: AsyncSession) -> ChangePasswordPayload:
            await credentials.change_password(session, info.context.actor, input.to_data())
            return ChangePasswordPayload()

        return await run(info, call, ChangePasswordPayload)

    @strawberry.mutation(description="Email a password-reset link, if the address has an account.")
    async def request_password_reset(
        self, info: Info, input: RequestPasswordResetInput
    ) -> RequestPasswordResetPayload | None:
        async def call(session: AsyncSession) -> RequestPasswordResetPayload:
            await recovery.request_password_reset(session, info.context.actor, input.email)
            return RequestPasswordResetPayload()

        return await run(info, call, RequestPasswordResetPayload)

    @strawberry.mutation(description="Set a new password with the emailed token; every sign-in ends.")
    async def reset_password(self, info: Info, input: ResetPasswordInput) -> ResetPasswordPayload | None:
        async def call(session: AsyncSession) -> ResetPasswordPayload:
            await recovery.reset_password(session, info.context.actor, input.to_data())
            return ResetPasswordPayload()

        return await run(info, call, ResetPasswordPayload)

    @strawberry.mutation(description="Confirm the email address with the token from the registration email.")
    async def verify_email(self, info: Info, input: VerifyEmailInput) -> VerifyEmailPayload | None:
        async def call(session: AsyncSession) -> VerifyEmailPayload:
            await registration.verify_email(session, info.context.actor, input.token)
            return VerifyEmailPayload()

        return await run(info, call, VerifyEmailPayload)
