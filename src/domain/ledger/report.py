"""What verify found, in a shape the CLI prints, the nightly job stores and admin tools read."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Violation:
    check: str
    subject: str
    detail: str


@dataclass
class VerifyReport:
    started_at: datetime
    finished_at: datetime
    # Rows read: accounts, entries, postings, holds.
    totals: dict[str, int] = field(default_factory=dict)
    # Violations per check (every check appears, clean ones with 0).
    counts: dict[str, int] = field(default_factory=dict)
    # Checks with more violations than were listed.
    truncated: dict[str, bool] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.violation_count == 0

    @property
    def violation_count(self) -> int:
        return sum(self.counts.values())

    def failed_checks(self) -> list[str]:
        return [check for check, count in self.counts.items() if count]

    def summary(self) -> str:
        totals = ", ".join(f"{count} {name}" for name, count in self.totals.items())
        lines = [f"ledger verify: {totals}"]
        width = max((len(check) for check in self.counts), default=0)
        for check, count in self.counts.items():
            more = "+" if self.truncated.get(check) else ""
            lines.append(f"  {check.ljust(width)}  {'ok' if not count else f'{count}{more} VIOLATION(S)'}")
        for violation in self.violations:
            lines.append(f"  ! {violation.check}: {violation.subject}: {violation.detail}")
        lines.append("OK: no violations" if self.ok else f"FAILED: {self.violation_count} violation(s)")
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "totals": self.totals,
            "counts": self.counts,
            "truncated": self.truncated,
            "violations": [asdict(v) for v in self.violations],
        }
