"""Rate limits on sign-in, one-time codes, password resets and registration.

Fixed windows counted in Redis (shared by every api replica) or, embedded, in this process's
memory. Windows are numbered from `tally.clock`, so tests cross a window with `clock.advance`.
A fixed window lets a burst of 2x the limit straddle a boundary; these limits are a brake on
guessing and spam next to the lockout, not an exact quota, so that is fine.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts.errors import TooManyAttempts
from tally.clock import clock
from tally.effects import runtime_of

if TYPE_CHECKING:
    from tally.runtime import Runtime


@dataclass(frozen=True)
class Limit:
    name: str
    limit: int
    window: timedelta


# Generous enough that a person mistyping never meets them before the lockout (5 in a row).
LOGIN_PER_IP = Limit("login:ip", 60, timedelta(minutes=15))
LOGIN_PER_ACCOUNT = Limit("login:account", 10, timedelta(minutes=15))
OTP_PER_IP = Limit("otp:ip", 30, timedelta(minutes=15))
OTP_PER_ACCOUNT = Limit("otp:account", 10, timedelta(minutes=15))
RESET_PER_IP = Limit("reset:ip", 10, timedelta(hours=1))
RESET_PER_ACCOUNT = Limit("reset:account", 3, timedelta(hours=1))
REGISTER_PER_IP = Limit("register:ip", 10, timedelta(hours=1))
REGISTER_PER_ACCOUNT = Limit("register:account", 5, timedelta(hours=1))
PASSWORD_CHECK_PER_ACCOUNT = Limit("password:account", 10, timedelta(minutes=15))


class _MemoryCounters:
    def __init__(self) -> None:
        self.counts: dict[str, tuple[int, int]] = {}  # key -> (window index, count)

    def incr(self, key: str, window_index: int) -> int:
        index, count = self.counts.get(key, (window_index, 0))
        count = count + 1 if index == window_index else 1
        self.counts[key] = (window_index, count)
        if len(self.counts) > 50_000:  # drop windows that are over, so memory stays bounded
            self.counts = {k: v for k, v in self.counts.items() if v[0] >= window_index}
        return count


_memory: WeakKeyDictionary[Runtime, _MemoryCounters] = WeakKeyDictionary()


def _subject_key(subject: str) -> str:
    # Emails are personal data: Redis keys carry a hash of them, not the address.
    return hashlib.sha256(subject.strip().lower().encode()).hexdigest()[:24]


async def _count(runtime: Runtime, limit: Limit, subject: str) -> tuple[int, int]:
    """This window's count after this hit, and the seconds until the window ends."""
    seconds = int(limit.window.total_seconds())
    now = clock.now().timestamp()
    index = math.floor(now / seconds)
    retry_after = max(1, math.ceil((index + 1) * seconds - now))
    key = f"tally:ratelimit:{limit.name}:{_subject_key(subject)}:{index}"
    if runtime.redis is None:
        counters = _memory.setdefault(runtime, _MemoryCounters())
        return counters.incr(key, index), retry_after
    async with runtime.redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, seconds + 60)
        count, _ = await pipe.execute()
    return int(count), retry_after


async def hit(runtime: Runtime, *checks: tuple[Limit, str | None]) -> None:
    """Count one attempt against each (limit, subject); raise when any is spent."""
    for limit, subject in checks:
        count, retry_after = await _count(runtime, limit, subject or "unknown")
        if count > limit.limit:
            raise TooManyAttempts(limit.name, retry_after)


async def hit_for(session: AsyncSession, *checks: tuple[Limit, str | None]) -> None:
    await hit(runtime_of(session), *checks)
