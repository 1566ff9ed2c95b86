"""Posting journal entries: the only code in Tally that changes a balance.

`post` runs in the caller's transaction and never commits. In one go (domain.ledger.writes):

1. lock every touched account, in id order (`FOR NO KEY UPDATE`; SQLite's writer lock already
   serializes), so two entries over the same accounts queue instead of deadlocking;
2. check each account exists, holds the posting's asset and, unless it may go below zero,
   stays at or above zero (else INSUFFICIENT_FUNDS);
3. only if all that holds, insert the entry under its unique idempotency key (ON CONFLICT DO
   NOTHING) and, only if that inserted a row, the new cached balances and versions and the
   postings, each with the account's balance after it.

A refusal writes nothing, so it needs no savepoint. A taken key (committed, or committed while
we waited on its index entry) returns the first entry, or IDEMPOTENCY_CONFLICT if its postings
differ. One statement for any entry on PostgreSQL; four on SQLite.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from dataclasses import replace

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from db.models.ledger import JournalEntry, JournalPosting, LedgerAccount, LedgerHold
from domain.errors import NotFound, Validator
from domain.ledger.assets import is_asset
from domain.ledger.errors import AccountNotFound, IdempotencyConflict, InsufficientFunds, LedgerCode, refused
from domain.ledger.types import Entry, EntrySpec, Posting, PostingSpec
from domain.ledger.writes import Line, apply_entry
from tally.clock import clock

accounts = LedgerAccount.__table__
entries = JournalEntry.__table__
postings = JournalPosting.__table__

MAX_POSTINGS = 64
# Far from BIGINT's edge, so no sum of a few amounts overflows in SQL.
MAX_AMOUNT = 2**53

_FIND_ENTRY = (
    select(
        entries, postings.c.account_id, postings.c.amount, postings.c.asset, postings.c.balance_after,
        postings.c.version.label("posting_version"),
    )
    .outerjoin(postings, postings.c.entry_id == entries.c.id)
    .order_by(postings.c.account_id)
)


async def post(session: AsyncSession, spec: EntrySpec) -> Entry:
    """Apply `spec` atomically in the caller's transaction and return the entry (see module doc)."""
    lines = _validated(spec)
    fingerprint = _fingerprint(spec, lines)

    # The caller's pending ORM writes first (sessions do not autoflush), then Core on the session's
    # connection: the same transaction, without the ORM's per-statement work.
    await session.flush()
    connection = await session.connection()
    now = clock.now()
    entry_id = uuid.uuid4()
    applied = await apply_entry(
        connection,
        {
            "id": entry_id, "idempotency_key": spec.idempotency_key, "fingerprint": fingerprint,
            "reason": spec.reason, "memo": spec.memo, "reference_type": spec.reference_type,
            "reference_id": spec.reference_id, "reverses_entry_id": spec.reverses_entry_id, "created_at": now,
        },
        lines,
    )
    if not applied.written:
        return await _explain_refusal(session, spec, fingerprint, lines, applied.lines)

    _refresh_loaded_accounts(session, applied.lines)
    return Entry(
        id=entry_id, idempotency_key=spec.idempotency_key, reason=spec.reason, memo=spec.memo,
        reference_type=spec.reference_type, reference_id=spec.reference_id,
        reverses_entry_id=spec.reverses_entry_id, created_at=now,
        postings=tuple(
            Posting(account_id=line.account_id, amount=line.amount, asset=line.asset,
                    balance_after=line.balance_after, version=line.version)
            for line in applied.lines
        ),
    )


async def _explain_refusal(
    session: AsyncSession, spec: EntrySpec, fingerprint: str, wanted: list[PostingSpec], checked: list[Line]
) -> Entry:
    """Nothing was written: return the first entry under this key, or raise what stopped us."""
    found = {line.account_id for line in checked}
    for posting in wanted:
        if posting.account_id not in found:
            raise AccountNotFound(posting.account_id)
    for line in checked:
        if line.asset != line.account_asset:
            message = f"The account holds {line.account_asset}, not {line.asset}."
            raise refused(LedgerCode.ASSET_MISMATCH, message, "postings")
    # A retry of an entry that went through gets that entry back, even if the funds are gone now.
    first = await _replay(session, spec.idempotency_key, fingerprint)
    if first is not None:
        return first
    overdrawn = next((line.account_id for line in checked if line.overdraws), None)
    if overdrawn is not None:
        raise InsufficientFunds(overdrawn)
    # Every check passed and the key is free: the unique index that refused us is on reverses_entry_id.
    raise refused(LedgerCode.ALREADY_REVERSED, "This entry was already reversed.", "entry_id")


async def transfer(
    session: AsyncSession,
    source_id: uuid.UUID,
    destination_id: uuid.UUID,
    amount: int,
    asset: str,
    idempotency_key: str,
    reason: str,
    *,
    memo: str | None = None,
    reference_type: str | None = None,
    reference_id: str | None = None,
) -> Entry:
    """Move `amount` (> 0) of `asset` from one account to another."""
    if not _is_amount(amount) or amount <= 0:
        raise refused(LedgerCode.INVALID_AMOUNT, "The amount must be a positive whole number.", "amount")
    return await post(
        session,
        EntrySpec(
            idempotency_key=idempotency_key,
            reason=reason,
            postings=(PostingSpec(source_id, -amount, asset), PostingSpec(destination_id, amount, asset)),
            memo=memo,
            reference_type=reference_type,
            reference_id=reference_id,
        ),
    )


async def reverse(
    session: AsyncSession,
    entry_id: uuid.UUID,
    idempotency_key: str,
    *,
    reason: str = "reversal",
    memo: str | None = None,
) -> Entry:
    """Post the mirror image of an entry (a correction; the original stays as it was)."""
    original = await get_entry(session, entry_id)
    reversal = await session.scalar(select(entries.c.idempotency_key).where(entries.c.reverses_entry_id == entry_id))
    if reversal is not None and reversal != idempotency_key:
        raise refused(LedgerCode.ALREADY_REVERSED, "This entry was already reversed.", "entry_id")
    hold_entry = select(LedgerHold.id).where(
        (LedgerHold.place_entry_id == entry_id) | (LedgerHold.settle_entry_id == entry_id)
    )
    if await session.scalar(hold_entry) is not None:
        # A hold's entries settle through capture or void; reversing one would orphan the hold.
        raise refused(LedgerCode.NOT_REVERSIBLE, "A hold's entries are settled by capturing or voiding it.", "entry_id")
    return await post(
        session,
        EntrySpec(
            idempotency_key=idempotency_key,
            reason=reason,
            postings=tuple(PostingSpec(p.account_id, -p.amount, p.asset) for p in original.postings),
            memo=memo,
            reference_type=original.reference_type,
            reference_id=original.reference_id,
            reverses_entry_id=original.id,
        ),
    )


async def find_entry(session: AsyncSession, idempotency_key: str) -> Entry | None:
    found = await _load(session, entries.c.idempotency_key == idempotency_key)
    return found[0] if found else None


async def get_entry(session: AsyncSession, entry_id: uuid.UUID) -> Entry:
    found = await _load(session, entries.c.id == entry_id)
    if found is None:
        raise NotFound("ledger entry", field="entry_id")
    return found[0]


async def _load(session: AsyncSession, where: ColumnElement[bool]) -> tuple[Entry, str] | None:
    """An entry with its postings (one statement), and the fingerprint it was written with."""
    rows = (await session.execute(_FIND_ENTRY.where(where))).all()
    if not rows:
        return None
    head = rows[0]
    entry = Entry(
        id=head.id, idempotency_key=head.idempotency_key, reason=head.reason, memo=head.memo,
        reference_type=head.reference_type, reference_id=head.reference_id,
        reverses_entry_id=head.reverses_entry_id, created_at=head.created_at,
        postings=tuple(
            Posting(account_id=r.account_id, amount=r.amount, asset=r.asset, balance_after=r.balance_after,
                    version=r.posting_version)
            for r in rows
            if r.account_id is not None
        ),
    )
    return entry, head.fingerprint


async def _replay(session: AsyncSession, idempotency_key: str, fingerprint: str) -> Entry | None:
    """The entry already written under this key (nothing new is written), if there is one."""
    found = await _load(session, entries.c.idempotency_key == idempotency_key)
    if found is None:
        return None
    first, first_fingerprint = found
    if first_fingerprint != fingerprint:
        raise IdempotencyConflict(idempotency_key)
    return replace(first, replayed=True)


def _is_amount(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -MAX_AMOUNT <= value <= MAX_AMOUNT


def _validated(spec: EntrySpec) -> list[PostingSpec]:
    """Every problem with the entry at once; the postings sorted by account (the lock order)."""
    check = Validator()
    check.check(isinstance(spec.idempotency_key, str) and 0 < len(spec.idempotency_key) <= 200,
                "idempotency_key", "The idempotency key must be 1 to 200 characters.", LedgerCode.INVALID_ENTRY)
    check.check(isinstance(spec.reason, str) and 0 < len(spec.reason) <= 64,
                "reason", "The reason must be 1 to 64 characters.", LedgerCode.INVALID_ENTRY)
    for name, limit in (("memo", 500), ("reference_type", 32), ("reference_id", 64)):
        value = getattr(spec, name)
        ok = value is None or len(value) <= limit
        check.check(ok, name, f"At most {limit} characters.", LedgerCode.INVALID_ENTRY)
    lines = list(spec.postings)
    check.check(2 <= len(lines) <= MAX_POSTINGS, "postings", f"An entry has 2 to {MAX_POSTINGS} postings.",
                LedgerCode.INVALID_ENTRY)
    check.check(len({line.account_id for line in lines}) == len(lines), "postings",
                "Each account appears once in an entry.", LedgerCode.INVALID_ENTRY)
    sums: dict[str, int] = defaultdict(int)
    for line in lines:
        amount_ok = check.check(_is_amount(line.amount) and line.amount != 0, "postings",
                                "Each posting moves a non-zero whole amount.", LedgerCode.INVALID_AMOUNT)
        asset_ok = check.check(is_asset(line.asset), "postings", f"Unknown asset {line.asset!r}.",
                               LedgerCode.INVALID_ASSET)
        if amount_ok and asset_ok:
            sums[line.asset] += line.amount
    check.check(all(total == 0 for total in sums.values()), "postings",
                "The postings must sum to zero for each asset.", LedgerCode.UNBALANCED_ENTRY)
    check.raise_if_any()
    return sorted(lines, key=lambda line: line.account_id)


def _fingerprint(spec: EntrySpec, lines: list[PostingSpec]) -> str:
    text = ";".join(f"{line.account_id.hex}:{line.asset}:{line.amount}" for line in lines)
    if spec.reverses_entry_id is not None:
        text += f";reverses:{spec.reverses_entry_id.hex}"
    return hashlib.sha256(text.encode()).hexdigest()


def _refresh_loaded_accounts(session: AsyncSession, lines: list[Line]) -> None:
    """Accounts already loaded in this session see the new balance (the UPDATE bypassed the ORM)."""
    if not session.identity_map:
        return
    for line in lines:
        loaded = session.identity_map.get(identity_key(LedgerAccount, line.account_id))
        if loaded is not None:
            set_committed_value(loaded, "balance", line.balance_after)
            set_committed_value(loaded, "version", line.version)
