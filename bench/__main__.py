"""`python -m bench [name] [options]`: one benchmark by name, or every one in turn (`make bench`).

Each benchmark seeds its own database, runs bounded in count and time, and prints its figures
beside a baseline measured in the same run. None of them is a test.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_"))
    if len(sys.argv) >= 2 and sys.argv[1] in ("-h", "--help"):
        print(f"usage: python -m bench [name] [options]; benchmarks: {', '.join(names)}")
        return 0
    if len(sys.argv) < 2:
        status = 0
        for name in names:
            print(f"\n=== {name} ===", flush=True)
            status |= importlib.import_module(f"bench.{name}").main([]) or 0
        return status
    if sys.argv[1] not in names:
        print(f"usage: python -m bench [name] [options]; benchmarks: {', '.join(names)}", file=sys.stderr)
        return 2
    return importlib.import_module(f"bench.{sys.argv[1]}").main(sys.argv[2:]) or 0


if __name__ == "__main__":
    sys.exit(main())
