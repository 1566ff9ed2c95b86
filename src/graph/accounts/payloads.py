"""Mutation payloads: the changed objects, tokens, and `errors` (empty on success)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from graph.accounts.types import AccountsError, OtpChallenge, User


@strawberry.type
class RegisterPayload:
    user: User | None = None
    access_token: str | None = None
    refresh_token: str | None = None
    access_token_expires_at: datetime | None = None
    errors: list[AccountsError] = strawberry.field(default_factory=list)


@strawberry.type(description="Tokens, or (two-factor on, untrusted device) an otpChallenge and no tokens.")
class LoginPayload:
    access_token: str | None = None
    refresh_token: str | None = None
    access_token_expires_at: datetime | None = None
    user: User | None = None
    otp_challenge: OtpChallenge | None = None
    errors: list[AccountsError] = strawberry.field(default_factory=list)


@strawberry.type
class VerifyOtpPayload:
    access_token: str | None = None
    refresh_token: str | None = None
    access_token_expires_at: datetime | None = None
    device_token: str | None = strawberry.field(default=None, description="Pass as LoginInput.deviceToken.")
    user: User | None = None
    errors: list[AccountsError] = strawberry.field(default_factory=list)


@strawberry.type
class RefreshTokenPayload:
    access_token: str | None = None
    refresh_token: str | None = None
    access_token_expires_at: datetime | None = None
    errors: list[AccountsError] = strawberry.field(default_factory=list)


@strawberry.type
class LogoutPayload:
    errors: list[AccountsError] = strawberry.field(default_factory=list)


@strawberry.type
class EnableTwoFactorPayload:
    user: User | None = None
    errors: list[AccountsError] = strawberry.field(default_factory=list)


@strawberry.type
class ChangePasswordPayload:
    errors: list[AccountsError] = strawberry.field(default_factory=list)


@strawberry.type(description="The same answer whether or not the address has an account.")
class RequestPasswordResetPayload:
    errors: list[AccountsError] = strawberry.field(default_factory=list)


@strawberry.type
class ResetPasswordPayload:
    errors: list[AccountsError] = strawberry.field(default_factory=list)


@strawberry.type
class VerifyEmailPayload:
    errors: list[AccountsError] = strawberry.field(default_factory=list)
