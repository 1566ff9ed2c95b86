"""The one source of "now", so tests can move time instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> None:
        self._offset += delta

    def reset(self) -> None:
        self._offset = timedelta(0)

    def start_of_period(self, period: timedelta) -> None:
        """Jump to just after the next multiple of `period` (tests: windows never roll over mid-test)."""
        now = self.now()
        seconds = period.total_seconds()
        next_boundary = (now.timestamp() // seconds + 1) * seconds
        self._offset += timedelta(seconds=next_boundary - now.timestamp() + 1)


clock = Clock()
