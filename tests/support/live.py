"""Live-server helpers: committed people and a server to open websockets against."""

from __future__ import annotations

from typing import Any

from tally.runtime import Runtime
from tests.accounts.conftest import Person, make_person


async def committed_person(runtime: Runtime, **kwargs: Any) -> Person:
    """A signed-in person whose rows are committed (a live server reads them on other connections)."""
    async with runtime.database.sessions() as session:
        person = await make_person(session, **kwargs)
        await session.commit()
    return person
