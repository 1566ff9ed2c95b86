"""The earnings summary as GraphQL shows it: totals and breakdowns of one currency."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import strawberry
from strawberry.types import Info

from domain.earnings import summary as domain
from domain.earnings.earnings import hours_from_centi
from graph.earnings.loaders import PlatformById
from graph.earnings.types import Platform
from graph.money import Money


def _hours(bucket: domain.Bucket) -> Decimal:
    return hours_from_centi(bucket.hours_centi) or Decimal("0.00")


def _rate(bucket: domain.Bucket, currency: str) -> Money | None:
    rate = bucket.rate_minor
    return Money.from_minor(rate, currency) if rate is not None else None


@strawberry.type(description="One platform's part of a summary.")
class PlatformEarnings:
    total: Money
    hours: Decimal
    average_hourly_rate: Money | None
    count: int = strawberry.field(description="How many earnings.")
    share: float = strawberry.field(description="This platform's fraction of the summary's total, in [0, 1].")
    platform_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="The platform (archived ones included).")
    async def platform(self, info: Info) -> Platform | None:
        platform = await info.context.loader(PlatformById).load(self.platform_id)
        return Platform.from_model(platform) if platform else None


@strawberry.type(description="One calendar month of a summary.")
class MonthEarnings:
    month: str = strawberry.field(description="YYYY-MM.")
    total: Money
    hours: Decimal
    count: int


@strawberry.type(description="One day of a summary, for a heatmap. Days without earnings are left out.")
class DayEarnings:
    date: date
    total: Money
    hours: Decimal
    count: int


@strawberry.type(
    description="Earnings in ONE currency over a date range (both ends inclusive), aggregated in the database. "
    "Earnings in other currencies are left out; nothing is converted."
)
class EarningsSummary:
    currency: str = strawberry.field(description="The currency summed: the one asked for, else the default currency.")
    from_: date = strawberry.field(name="from")
    to: date
    total: Money
    hours: Decimal = strawberry.field(description="Hours tracked on these earnings.")
    count: int = strawberry.field(description="How many earnings.")
    average_hourly_rate: Money | None = strawberry.field(
        description="What earnings with hours > 0 brought, divided by those hours, rounded half up to the "
        "currency's minor unit; null when no hours were tracked."
    )
    by_platform: list[PlatformEarnings] = strawberry.field(description="Largest total first.")
    by_month: list[MonthEarnings] = strawberry.field(description="Oldest first; months without earnings left out.")
    by_day: list[DayEarnings] = strawberry.field(description="Oldest first; days without earnings left out.")

    @classmethod
    def from_summary(cls, summary: domain.Summary) -> EarningsSummary:
        currency = summary.currency

        def money(bucket: domain.Bucket) -> Money:
            return Money.from_minor(bucket.amount_minor, currency)

        return cls(
            currency=currency,
            from_=summary.start,
            to=summary.end,
            total=money(summary.total),
            hours=_hours(summary.total),
            count=summary.total.count,
            average_hourly_rate=_rate(summary.total, currency),
            by_platform=[
                PlatformEarnings(
                    total=money(bucket), hours=_hours(bucket), average_hourly_rate=_rate(bucket, currency),
                    count=bucket.count, share=summary.share(bucket), platform_id=platform_id,
                )
                for platform_id, bucket in summary.by_platform
            ],
            by_month=[
                MonthEarnings(month=month, total=money(bucket), hours=_hours(bucket), count=bucket.count)
                for month, bucket in summary.by_month
            ],
            by_day=[
                DayEarnings(date=day, total=money(bucket), hours=_hours(bucket), count=bucket.count)
                for day, bucket in summary.by_day
            ],
        )
