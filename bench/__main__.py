"""`python -m bench [--quick] [--no-peer]`: every benchmark in turn, then one table (`make bench`).
`python -m bench NAME [options]`: one benchmark, its own output and exit status.

Each benchmark seeds its own database, runs bounded in count and time, and prints its figures
beside a baseline measured in the same run. None of them is a test. In the suite each runs with
its module's SUITE arguments (QUICK with --quick: a smoke run, figures too short to quote), and
returns rows for the closing table (bench/_support.py: Row).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import time
import traceback
from pathlib import Path

from bench._load import generator
from bench._support import Row, table

# The table's order; any other module runs after these.
ORDER = ["family", "earnings", "wide", "subscriptions", "fanout", "ledger"]
PEERED = {"family", "wide"}  # the scenarios PostGraphile answers (issue 8: 1 and 3)


def names() -> list[str]:
    found = {m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_")}
    return [n for n in ORDER if n in found] + sorted(found - set(ORDER))


def suite(quick: bool, peer: bool) -> int:
    status, rows, started = 0, [], time.perf_counter()
    for name in names():
        module = importlib.import_module(f"bench.{name}")
        argv = list(getattr(module, "QUICK" if quick else "SUITE", []))
        if not peer and name in PEERED:
            argv.append("--no-peer")
        print(f"\n=== {name} {' '.join(argv)} ===", flush=True)
        try:
            report = module.measure(argv)
        except Exception:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            status |= 1
            rows.append(Row(f"{name}: failed (see above)"))
            continue
        status |= report.status
        rows.extend(report.rows)
    minutes = (time.perf_counter() - started) / 60
    print(f"\n=== summary{' (--quick: a smoke run, not figures to quote)' if quick else ''}: "
          f"{os.cpu_count()} CPUs, load generator {generator()}, {minutes:.1f} min ===\n")
    print(table(rows))
    return status


def main() -> int:
    args = sys.argv[1:]
    usage = (f"usage: python -m bench [--quick] [--no-peer] | python -m bench NAME [options]; "
             f"names: {', '.join(names())}")
    if args and args[0] in ("-h", "--help"):
        print(usage + "\n\n" + (__doc__ or ""))
        return 0
    if all(arg in ("--quick", "--no-peer") for arg in args):
        return suite("--quick" in args, "--no-peer" not in args)
    if args[0] not in names():
        print(usage, file=sys.stderr)
        return 2
    return importlib.import_module(f"bench.{args[0]}").main(args[1:]) or 0


if __name__ == "__main__":
    sys.exit(main())
