"""Password hashing (argon2id) and the strength rules.

Hashing costs ~0.1 s of CPU by design, so it runs in a worker thread: the event loop keeps
serving other requests meanwhile. An unknown login is checked against a dummy hash, so it
costs what a wrong password costs and the answer's timing does not tell which one it was.
"""

from __future__ import annotations

import asyncio
from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from domain.accounts.errors import Code
from domain.errors import Problem

MIN_LENGTH = 10
MAX_LENGTH = 128  # argon2 takes any length; a cap keeps a megabyte "password" from costing us CPU

# argon2-cffi's defaults: argon2id with RFC 9106's low-memory profile. Changing them makes every
# stored hash "need rehash", and users move over as they sign in.
hasher = PasswordHasher()


class _Dummy:
    """The hash verified for unknown logins, made lazily with the current parameters."""

    value: str | None = None
    made_with: PasswordHasher | None = None


_dummy = _Dummy()


def _dummy_hash() -> str:
    if _dummy.value is None or _dummy.made_with is not hasher:
        _dummy.value = hasher.hash("not a password anybody has")
        _dummy.made_with = hasher
    return _dummy.value


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(hasher.hash, password)


def _verify(stored_hash: str, password: str) -> bool:
    try:
        return hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; with no stored hash, spends the same time and says False."""
    if stored_hash is None:
        await asyncio.to_thread(_verify, _dummy_hash(), password)
        return False
    return await asyncio.to_thread(_verify, stored_hash, password)


def needs_rehash(stored_hash: str) -> bool:
    try:
        return hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = resources.files("domain.accounts").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def strength_problems(password: str, field: str, *, personal: tuple[str | None, ...] = ()) -> list[Problem]:
    """Why `password` is too weak (empty when it is fine). `personal`: email, name, username."""

    def weak(message: str) -> list[Problem]:
        return [Problem(code=Code.WEAK_PASSWORD.value, message=message, field=field)]

    if len(password) < MIN_LENGTH:
        return weak(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        return weak(f"Use at most {MAX_LENGTH} characters.")
    lowered = password.strip().lower()
    if lowered in common_passwords():
        return weak("This password is too common.")
    for fact in personal:
        if not fact:
            continue
        fact = fact.strip().lower()
        candidates = {fact, fact.split("@", 1)[0]} if "@" in fact else {fact}
        if lowered in candidates or lowered.replace(" ", "") in {c.replace(" ", "") for c in candidates}:
            return weak("Do not use your email, name or username as the password.")
    if len(set(lowered)) < 3:
        return weak("Use more than two different characters.")
    return []
