"""Account inputs, exactly as the client contract names them."""

from __future__ import annotations

import strawberry

from domain.accounts.credentials import ChangePassword
from domain.accounts.recovery import ResetPassword
from domain.accounts.registration import Register
from domain.accounts.sign_in import Login, VerifyOtp
from domain.accounts.two_factor import EnableTwoFactor
from graph.accounts.enums import Channel


@strawberry.input
class RegisterInput:
    email: str
    password: str
    name: str
    phone: str | None = None

    def to_data(self) -> Register:
        return Register(email=self.email, password=self.password, name=self.name, phone=self.phone)


@strawberry.input
class LoginInput:
    login: str = strawberry.field(description="An email, or a child's username.")
    password: str
    device_token: str | None = strawberry.field(default=None, description="Skips two-factor on a trusted device.")

    def to_data(self) -> Login:
        return Login(login=self.login, password=self.password, device_token=self.device_token)


@strawberry.input
class VerifyOtpInput:
    challenge_id: strawberry.ID
    code: str
    trust_device: bool | None = strawberry.field(
        default=None, description="Return a device token that skips two-factor here for 45 days."
    )

    def to_data(self) -> VerifyOtp:
        return VerifyOtp(challenge_id=str(self.challenge_id), code=self.code, trust_device=bool(self.trust_device))


@strawberry.input
class RefreshTokenInput:
    refresh_token: str


@strawberry.input
class LogoutInput:
    refresh_token: str


@strawberry.input
class EnableTwoFactorInput:
    channel: Channel
    phone: str | None = strawberry.field(default=None, description="Required for SMS.")

    def to_data(self) -> EnableTwoFactor:
        return EnableTwoFactor(channel=self.channel, phone=self.phone)


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str

    def to_data(self) -> ChangePassword:
        return ChangePassword(current_password=self.current_password, new_password=self.new_password)


@strawberry.input
class RequestPasswordResetInput:
    email: str


@strawberry.input
class ResetPasswordInput:
    token: str
    new_password: str

    def to_data(self) -> ResetPassword:
        return ResetPassword(token=self.token, new_password=self.new_password)


@strawberry.input
class VerifyEmailInput:
    token: str
