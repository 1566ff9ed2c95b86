"""The ledger: one double-entry book for every points and money balance in Tally.

Other domains move value only through these functions, inside their own transaction:

    wallet = await ledger.get_or_create_account(session, "user", user.id, "USD", "wallet")
    entry = await ledger.transfer(session, clearing.id, wallet.id, 500, "USD",
                                  idempotency_key=f"cashback:{offer.id}:confirm", reason="cashback.confirmed")

Amounts are integers (points, or a currency's minor units). Every call is idempotent under its
key; refusals are DomainErrors with LedgerCode codes and write nothing.
"""

from domain.ledger.accounts import balance, get_account, get_or_create_account, history, platform_account
from domain.ledger.assets import POINTS, is_asset
from domain.ledger.errors import LedgerCode
from domain.ledger.holds import HoldStatus, capture_hold, get_hold, place_hold, void_hold
from domain.ledger.report import VerifyReport, Violation
from domain.ledger.service import find_entry, get_entry, post, reverse, transfer
from domain.ledger.types import AccountKind, Balance, Entry, EntrySpec, OwnerType, Posting, PostingSpec
from domain.ledger.verify import latest_run, record_run, run_verify, verify

__all__ = [
    "POINTS",
    "AccountKind",
    "Balance",
    "Entry",
    "EntrySpec",
    "HoldStatus",
    "LedgerCode",
    "OwnerType",
    "Posting",
    "PostingSpec",
    "VerifyReport",
    "Violation",
    "balance",
    "capture_hold",
    "find_entry",
    "get_account",
    "get_entry",
    "get_hold",
    "get_or_create_account",
    "history",
    "is_asset",
    "latest_run",
    "place_hold",
    "platform_account",
    "post",
    "record_run",
    "reverse",
    "run_verify",
    "transfer",
    "verify",
    "void_hold",
]
