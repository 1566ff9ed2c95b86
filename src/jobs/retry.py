"""Retry timing shared by the ARQ worker and the in-process queue."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: ~base, 2·base, 4·base … capped (tests pass a tiny base)."""

    base_seconds: float = 1.0
    cap_seconds: float = 300.0
    jitter: bool = True

    def delay(self, attempt: int) -> float:
        raw = min(self.cap_seconds, self.base_seconds * 2 ** max(attempt - 1, 0))
        # Jitter keeps a fleet of retries from hitting a recovering provider in lockstep.
        return raw * (0.5 + random.random() / 2) if self.jitter else raw  # noqa: S311
