"""Money crosses the API as exact decimals and is stored as integer minor units."""

from decimal import Decimal

import pytest

from domain.money import MoneyError, from_minor, normalize_currency, to_minor


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("12.34", "EUR", 1234), ("1500", "JPY", 1500), ("1.005", "KWD", 1005), ("0.10", "USD", 10)],
)
def test_amounts_round_trip_exactly(amount: str, currency: str, minor: int) -> None:
    assert to_minor(Decimal(amount), currency) == minor
    assert from_minor(minor, currency) == Decimal(amount)


@pytest.mark.parametrize(
    ("amount", "currency"), [("0.001", "EUR"), ("1.5", "JPY"), ("NaN", "USD"), ("Infinity", "EUR")]
)
def test_more_decimals_than_the_currency_has_are_refused_not_rounded(amount: str, currency: str) -> None:
    with pytest.raises(MoneyError):
        to_minor(Decimal(amount), currency)


def test_currency_codes_are_checked_and_normalized() -> None:
    assert normalize_currency(" eur") == "EUR"
    for bad in ("EURO", "XXX", "", "BTC"):
        with pytest.raises(MoneyError):
            normalize_currency(bad)
