"""register, login, verifyOtp, refreshToken, logout: open to anyone, since they are how one signs in."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from domain.accounts import registration, sessions, sign_in
from graph.accounts.inputs import LoginInput, LogoutInput, RefreshTokenInput, RegisterInput, VerifyOtpInput
from graph.accounts.mutations.runner import run, run_attempt
from graph.accounts.payloads import (
    LoginPayload,
    LogoutPayload,
    RefreshTokenPayload,
    RegisterPayload,
    VerifyOtpPayload,
)
from graph.accounts.types import OtpChallenge, User


@strawberry.type
class SignInMutation:
    @strawberry.mutation(description="Create an adult account, send the email verification link, and sign in.")
    async def register(self, info: Info, input: RegisterInput) -> RegisterPayload | None:
        async def call(session: AsyncSession) -> RegisterPayload:
            done = await registration.register(session, info.context.actor, input.to_data())
            return RegisterPayload(
                user=User.from_model(done.user),
                access_token=done.tokens.access_token,
                refresh_token=done.tokens.refresh_token,
                access_token_expires_at=done.tokens.access_token_expires_at,
            )

        return await run(info, call, RegisterPayload)

    @strawberry.mutation(description="Sign in with an email (or a child's username) and password.")
    async def login(self, info: Info, input: LoginInput) -> LoginPayload | None:
        async def call(session: AsyncSession) -> LoginPayload:
            result = await sign_in.login(session, info.context.actor, input.to_data())
            if result.challenge is not None:
                # Nothing about the account until the second factor is passed too.
                return LoginPayload(otp_challenge=OtpChallenge.from_model(result.challenge))
            assert result.tokens is not None
            return LoginPayload(
                access_token=result.tokens.access_token,
                refresh_token=result.tokens.refresh_token,
                access_token_expires_at=result.tokens.access_token_expires_at,
                user=User.from_model(result.user),
            )

        return await run_attempt(info, call, LoginPayload)

    @strawberry.mutation(description="Finish a two-factor sign-in with the code that was sent.")
    async def verify_otp(self, info: Info, input: VerifyOtpInput) -> VerifyOtpPayload | None:
        async def call(session: AsyncSession) -> VerifyOtpPayload:
            result = await sign_in.verify_otp(session, info.context.actor, input.to_data())
            assert result.tokens is not None
            return VerifyOtpPayload(
                access_token=result.tokens.access_token,
                refresh_token=result.tokens.refresh_token,
                access_token_expires_at=result.tokens.access_token_expires_at,
                device_token=result.device_token,
                user=User.from_model(result.user),
            )

        return await run_attempt(info, call, VerifyOtpPayload)

    @strawberry.mutation(description="Exchange a refresh token (good once) for a new pair.")
    async def refresh_token(self, info: Info, input: RefreshTokenInput) -> RefreshTokenPayload | None:
        async def call(session: AsyncSession) -> RefreshTokenPayload:
            tokens = await sessions.refresh(session, info.context.actor, input.refresh_token)
            return RefreshTokenPayload(
                access_token=tokens.access_token,
                refresh_token=tokens.refresh_token,
                access_token_expires_at=tokens.access_token_expires_at,
            )

        return await run_attempt(info, call, RefreshTokenPayload)

    @strawberry.mutation(description="End the sign-in this refresh token belongs to, with its access tokens.")
    async def logout(self, info: Info, input: LogoutInput) -> LogoutPayload | None:
        async def call(session: AsyncSession) -> LogoutPayload:
            await sessions.logout(session, info.context.actor, input.refresh_token)
            return LogoutPayload()

        return await run(info, call, LogoutPayload)
