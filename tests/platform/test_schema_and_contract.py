"""The schema is the product's face: the committed file is current, and the client contract validates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from graphql import build_schema as parse_sdl
from graphql import parse, validate

from graph.schema import build_schema

ROOT = Path(__file__).resolve().parents[2]
SHARED_CONTRACT = ROOT.parent / "shared" / "contract"
CONTRACT_CHECK = ROOT.parent / "shared" / "tools" / "contract-check"
LOCAL_CONTRACT = ROOT / "tests" / "contract"

# Contract files whose domain has not landed yet. The test below fails when one of these
# already validates, so this set cannot go stale.
PENDING: set[str] = set()


def test_committed_schema_is_current() -> None:
    exported = build_schema().as_str() + "\n"
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == exported, "schema.graphql is stale: run `make schema` and commit it"


def _problems(schema_sdl: str, contract_file: Path) -> list[str]:
    schema = parse_sdl(schema_sdl)
    return [error.message for error in validate(schema, parse(contract_file.read_text()))]


@pytest.mark.parametrize("name", sorted(p.name for p in LOCAL_CONTRACT.glob("*.graphql")))
def test_contract_file_validates_unless_pending(name: str) -> None:
    problems = _problems((ROOT / "schema.graphql").read_text(), LOCAL_CONTRACT / name)
    if name in PENDING:
        assert problems, f"{name} validates now: take it out of PENDING"
    else:
        assert problems == []


def test_local_copy_of_the_contract_is_current() -> None:
    if not SHARED_CONTRACT.is_dir():
        pytest.skip("../shared/contract is not on this machine (it is on the team's machines and in CI)")
    shared = {p.name: p.read_text() for p in SHARED_CONTRACT.glob("*.graphql")}
    local = {p.name: p.read_text() for p in LOCAL_CONTRACT.glob("*.graphql")}
    assert local == shared, "tests/contract differs from ../shared/contract: copy the shared files over"


def test_contract_check_tool_agrees() -> None:
    if not CONTRACT_CHECK.exists():
        pytest.skip("../shared/tools/contract-check is not on this machine (it is on the team's machines and in CI)")
    result = subprocess.run(
        [sys.executable, str(CONTRACT_CHECK), str(ROOT / "schema.graphql")],
        capture_output=True, text=True, timeout=60, check=False,
    )
    failing = {line.split(":", 1)[0] for line in result.stdout.splitlines() if ".graphql:" in line}
    assert failing == PENDING, result.stdout
