"""Property: any sequence of transfers, reversals, replays and holds keeps the book sound.

A plain-Python model predicts each operation's outcome (applied, or refused with which code);
after every step the database must agree with the model and verify() must find nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from domain import ledger
from domain.errors import DomainError
from tests.ledger.factories import open_account

WALLETS = 3
CLEARING = WALLETS  # index of the overdraft account
ACCOUNTS = WALLETS + 1

amounts = st.integers(min_value=1, max_value=120)
account_index = st.integers(min_value=0, max_value=ACCOUNTS - 1)
wallet_index = st.integers(min_value=0, max_value=WALLETS - 1)
pick = st.integers(min_value=0, max_value=50)  # an earlier entry or hold, modulo how many exist

operations = st.one_of(
    st.tuples(st.just("transfer"), account_index, account_index, amounts),
    st.tuples(st.just("reverse"), pick),
    st.tuples(st.just("replay"), pick),
    st.tuples(st.just("hold"), wallet_index, amounts),
    st.tuples(st.just("capture"), pick, account_index, st.none() | amounts),
    st.tuples(st.just("void"), pick),
)


@dataclass
class Model:
    balances: list[int]
    held: list[int] = field(default_factory=lambda: [0] * WALLETS)
    # Entries that can be reversed or replayed: (entry, {account index: amount}, key, reversed?)
    entries: list[dict] = field(default_factory=list)
    holds: list[dict] = field(default_factory=list)

    def can_apply(self, moves: dict[int, int]) -> bool:
        return all(i == CLEARING or self.balances[i] + amount >= 0 for i, amount in moves.items())

    def apply(self, moves: dict[int, int]) -> None:
        for i, amount in moves.items():
            self.balances[i] += amount


async def run_step(session: AsyncSession, model: Model, ids: list[uuid.UUID], step: int, op: tuple) -> None:
    """Apply one operation to the database and the model; a refusal must be the predicted one."""
    expected_code: str | None = None
    kind = op[0]
    try:
        # A savepoint per operation, as a caller's mutation would roll a refusal back.
        async with session.begin_nested():
            if kind == "transfer":
                _, src, dst, amount = op
                moves = {src: -amount, dst: amount}
                if src == dst:
                    expected_code = "INVALID_ENTRY"
                elif not model.can_apply(moves):
                    expected_code = "INSUFFICIENT_FUNDS"
                key = f"p-{step}"
                entry = await ledger.transfer(session, ids[src], ids[dst], amount, "USD", key, "test.transfer")
                model.apply(moves)
                model.entries.append({"id": entry.id, "moves": moves, "key": key, "args": op, "reversed": False})
            elif kind == "replay" and any(e["args"] for e in model.entries):
                transfers = [e for e in model.entries if e["args"]]
                target = transfers[op[1] % len(transfers)]
                _, src, dst, amount = target["args"]
                again = await ledger.transfer(session, ids[src], ids[dst], amount, "USD", target["key"], "t")
                assert again.id == target["id"] and again.replayed
            elif kind == "reverse" and model.entries:
                target = model.entries[op[1] % len(model.entries)]
                moves = {i: -amount for i, amount in target["moves"].items()}
                if target["reversed"]:
                    expected_code = "ALREADY_REVERSED"
                elif not model.can_apply(moves):
                    expected_code = "INSUFFICIENT_FUNDS"
                reversal = await ledger.reverse(session, target["id"], f"p-{step}")
                model.apply(moves)
                target["reversed"] = True
                model.entries.append({"id": reversal.id, "moves": moves, "key": f"p-{step}", "args": None,
                                      "reversed": False})
            elif kind == "hold":
                _, wallet, amount = op
                if model.balances[wallet] < amount:
                    expected_code = "INSUFFICIENT_FUNDS"
                hold = await ledger.place_hold(session, ids[wallet], amount, f"p-{step}", "test.hold")
                model.balances[wallet] -= amount
                model.held[wallet] += amount
                model.holds.append({"id": hold.id, "wallet": wallet, "amount": amount, "pending": True})
            elif kind in ("capture", "void") and model.holds:
                target = model.holds[op[1] % len(model.holds)]
                wallet, amount = target["wallet"], target["amount"]
                if not target["pending"]:
                    expected_code = "HOLD_NOT_PENDING"
                if kind == "void":
                    await ledger.void_hold(session, target["id"], f"p-{step}")
                    model.balances[wallet] += amount
                else:
                    _, _, dst, part = op
                    captured = amount if part is None else min(part, amount)
                    if expected_code is None and dst == wallet:
                        expected_code = "INVALID_ENTRY"
                    await ledger.capture_hold(session, target["id"], ids[dst], f"p-{step}", amount=captured)
                    model.balances[dst] += captured
                    model.balances[wallet] += amount - captured
                model.held[wallet] -= amount
                target["pending"] = False
    except DomainError as refused:
        assert refused.code == expected_code, (op, refused.problems)
    else:
        assert expected_code is None, f"{op} should have been refused with {expected_code}"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    opening=st.lists(st.integers(min_value=0, max_value=300), min_size=WALLETS, max_size=WALLETS),
    ops=st.lists(operations, min_size=1, max_size=12),
)
async def test_random_operations_keep_every_invariant(session: AsyncSession, opening: list[int], ops: list) -> None:
    # Each example runs in a savepoint rolled back at the end, so examples do not see each other.
    outer = await session.begin_nested()
    try:
        # Given three wallets with random opening balances and a clearing account that may go negative
        wallets = [await open_account(session, balance=amount) for amount in opening]
        clearing = await open_account(session, kind="clearing", owner_type="platform", allow_negative=True)
        await ledger.transfer(session, clearing.id, wallets[0].id, 1, "USD", f"seed-{uuid.uuid4()}", "t")
        ids = [w.id for w in wallets] + [clearing.id]
        model = Model(balances=[opening[0] + 1, *opening[1:], -1])
        for step, op in enumerate(ops):
            # When each operation runs
            await run_step(session, model, ids, step, op)
            # Then the database agrees with the model, and the whole book verifies
            for i, account_id in enumerate(ids):
                balance = await ledger.balance(session, account_id)
                assert balance.available == model.balances[i], (i, op)
                assert balance.held == (model.held[i] if i < WALLETS else 0), (i, op)
            report = await ledger.verify(session)
            assert report.ok, report.summary()
    finally:
        await outer.rollback()

