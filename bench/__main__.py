"""`python -m bench [name ...] [-- options]`: run benchmarks by name (all of them without a name)."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = {"ledger": "bench.ledger"}


def main(argv: list[str]) -> int:
    names = [arg for arg in argv if not arg.startswith("-")][:1] or list(BENCHMARKS)
    options = [arg for arg in argv if arg not in names]
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark {unknown[0]!r}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    status = 0
    for name in names:
        status |= importlib.import_module(BENCHMARKS[name]).main(options)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
