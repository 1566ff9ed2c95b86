"""Benchmarks: `python -m bench <name>`; each prints its figures (they are not timed tests)."""
