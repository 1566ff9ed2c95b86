"""Money: ISO 4217 currencies and their minor units; amounts live as integer minor units.

Nothing is ever converted between currencies. A Decimal crosses the API; an int is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# Tender currencies in use (CLDR's list, 2026), with ISO 4217's minor units where they differ from 2.
CURRENCIES: frozenset[str] = frozenset({
    "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD",
    "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CLP",
    "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR",
    "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF",
    "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW",
    "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD",
    "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK",
    "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB",
    "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SYP",
    "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU",
    "UZS", "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
})
_MINOR_DIGITS = {
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(
        ["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF",
         "XOF", "XPF"],
        0,
    ),
}


class MoneyError(ValueError):
    """An amount or currency the API cannot take; the message says which and why."""


def normalize_currency(code: str) -> str:
    """The ISO code in upper case, or MoneyError for anything that is not a currency in use."""
    upper = code.strip().upper()
    if upper not in CURRENCIES:
        raise MoneyError(f"{code!r} is not an ISO 4217 currency code")
    return upper


def minor_digits(currency: str) -> int:
    return _MINOR_DIGITS.get(currency, 2)


def to_minor(amount: Decimal, currency: str) -> int:
    """Exact conversion: an amount with more decimals than the currency has is refused, not rounded."""
    try:
        scaled = Decimal(amount).scaleb(minor_digits(currency))
    except InvalidOperation:
        raise MoneyError("amount is not a number") from None
    if not scaled.is_finite():
        raise MoneyError("amount is not a finite number")
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{currency} amounts have at most {minor_digits(currency)} decimal places")
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    digits = minor_digits(currency)
    return Decimal(minor).scaleb(-digits).quantize(Decimal(1).scaleb(-digits))


@dataclass(frozen=True)
class Amount:
    """An amount of one currency, in minor units."""

    minor: int
    currency: str

    @property
    def decimal(self) -> Decimal:
        return from_minor(self.minor, self.currency)
