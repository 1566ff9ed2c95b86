"""The `Money` type: a decimal amount and its ISO currency, built from integer minor units."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from domain.money import from_minor


@strawberry.type(description="An amount of money in one currency. Amounts are exact decimals; nothing is converted.")
class Money:
    amount: Decimal
    currency: str = strawberry.field(description="ISO 4217 code, e.g. EUR.")

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        return cls(amount=from_minor(minor, currency), currency=currency)
