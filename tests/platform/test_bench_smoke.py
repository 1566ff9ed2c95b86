"""The benchmarks import, their argument parsers take the suite's arguments, and the table prints.

No load, no npm, no database: `make bench` is where they run.
"""

from __future__ import annotations

import importlib

import pytest

from bench.__main__ import PEERED, names
from bench._support import Row, leaves, table


@pytest.mark.parametrize("name", names())
def test_each_benchmark_parses_its_suite_and_quick_arguments(name: str) -> None:
    module = importlib.import_module(f"bench.{name}")
    assert callable(module.main) and callable(module.measure)
    for argv in (module.SUITE, module.QUICK, []):
        module.parser().parse_args(argv)
    if name in PEERED:
        assert module.parser().parse_args(["--no-peer"]).no_peer


def test_every_scenario_of_the_table_has_a_benchmark() -> None:
    assert {"family", "earnings", "wide", "subscriptions", "fanout", "ledger"} <= set(names())


def test_the_table_prints_ratios_and_dashes() -> None:
    rows = [
        Row("family", 10.0, 100.0, 200.0, 40.0, 20.0, "6 (5)", 100.0, 120.0, ["a note"]),
        Row("bus (deliveries/s)", 1000.0, 1.0, 2.0),
    ]
    printed = table(rows)
    lines = printed.splitlines()
    assert "Tally/floor" in lines[0] and "Tally/peer" in lines[0]
    assert " 0.25 " in lines[2] and " 0.50 " in lines[2] and "100→120 (1.20x)" in lines[2]
    assert "—" in lines[3]
    assert printed.endswith("family: a note")


def test_leaves_count_scalars_and_nulls() -> None:
    assert leaves({"data": {"me": {"id": "x", "list": [{"a": 1, "b": None}, {"a": 2, "b": "y"}]}}}) == 5
