"""The accounts enums as GraphQL sees them. Registered here, before any type or input uses
them, so the schema names them once (Role, OtpChannel, AccountsErrorCode)."""

from __future__ import annotations

import strawberry

from domain.accounts.errors import Code
from domain.accounts.two_factor import Channel
from domain.actor import Role

strawberry.enum(Role, name="Role", description="MEMBER is any adult account; staff roles rank above it.")
strawberry.enum(Channel, name="OtpChannel", description="Where one-time sign-in codes are sent.")
strawberry.enum(Code, name="AccountsErrorCode", description="What the client can switch on in AccountsError.code.")

__all__ = ["Channel", "Code", "Role"]
