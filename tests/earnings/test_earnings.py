"""Recording, correcting and deleting earnings: every rule names its field; a refusal writes nothing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models.earnings import Earning
from tally.clock import clock
from tests.accounts.conftest import Person, sign_in
from tests.earnings.conftest import add_earning, add_platform, codes, count, gid, record, set_profile
from tests.support.client import GraphQLClient


def today() -> date:
    return clock.now().date()


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"amount": "0"}, [("amount", "INVALID")]),
        ({"amount": "-5"}, [("amount", "INVALID")]),
        ({"amount": "10.001"}, [("amount", "INVALID")]),  # USD has cents only
        ({"amount": "100.5", "currency": "JPY"}, [("amount", "INVALID")]),  # yen have no minor unit
        ({"amount": "1000000000000"}, [("amount", "INVALID")]),  # past the ceiling
        ({"amount": "NaN"}, [("amount", "INVALID")]),
        ({"currency": "XYZ"}, [("currency", "INVALID")]),
        ({"hours": "-1"}, [("hours", "INVALID")]),
        ({"hours": "1.005"}, [("hours", "INVALID")]),
        ({"hours": "10001"}, [("hours", "INVALID")]),
        ({"notes": "x" * 2001}, [("notes", "INVALID")]),
        ({"date": "2999-01-01"}, [("date", "INVALID")]),
        # Every problem at once, so the client can mark every field in one round trip
        ({"amount": "0", "hours": "-1", "notes": "x" * 2001},
         [("amount", "INVALID"), ("hours", "INVALID"), ("notes", "INVALID")]),
    ],
)
async def test_a_bad_earning_is_refused_naming_its_field(
    gql: GraphQLClient, session: AsyncSession, fran: Person, fields: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    # Given a platform
    platform = await add_platform(session, fran.user)
    # When Fran records an earning with a bad field
    payload = await record(gql, fran, platform, **fields)
    # Then it is refused naming that field, and nothing is written
    assert payload["earning"] is None
    assert codes(payload) == expected
    assert await count(session, Earning) == 0


@pytest.mark.parametrize(
    ("fields", "amount", "rate"),
    [
        ({"amount": "1.25", "hours": "2"}, "1.25", "0.63"),  # 0.625 rounds half up
        ({"amount": "1000", "currency": "JPY", "hours": "3"}, "1000", "333"),  # to whole yen
        ({"amount": "1.234", "currency": "KWD", "hours": "1.5"}, "1.234", "0.823"),  # three decimals
        ({"amount": "50", "hours": "0"}, "50.00", None),  # no time tracked, no rate
        ({"amount": "50"}, "50.00", None),
        ({"amount": "0.01", "hours": "10000"}, "0.01", "0.00"),
    ],
)
async def test_the_hourly_rate_is_amount_over_hours_rounded_half_up(
    gql: GraphQLClient, session: AsyncSession, fran: Person, fields: dict[str, Any], amount: str, rate: str | None
) -> None:
    platform = await add_platform(session, fran.user)
    payload = await record(gql, fran, platform, **fields)
    assert payload["errors"] == []
    assert payload["earning"]["amount"]["amount"] == amount
    assert (payload["earning"]["hourlyRate"] or {}).get("amount") == rate


async def test_the_currency_defaults_to_the_users_default(
    gql: GraphQLClient, session: AsyncSession, fran: Person
) -> None:
    # Given Fran's default currency is EUR
    await set_profile(session, fran.user, currency="EUR")
    platform = await add_platform(session, fran.user)
    # When she leaves the currency out, and then gives one in lower case
    implicit = await record(gql, fran, platform, amount="5")
    explicit = await record(gql, fran, platform, amount="5", currency="gbp")
    # Then the first is in EUR and the second in GBP
    assert implicit["earning"]["amount"]["currency"] == "EUR"
    assert explicit["earning"]["amount"]["currency"] == "GBP"


@pytest.mark.parametrize(
    ("timezone", "hours_later", "latest_allowed"),
    [
        # The test starts just after midnight UTC on day D.
        ("UTC", 0, 1),  # tomorrow is D+1
        ("Pacific/Pago_Pago", 0, 0),  # UTC-11: still D-1 there, so tomorrow is D
        ("Pacific/Kiritimati", 0, 1),  # UTC+14: 14:00 on D there
        ("Pacific/Kiritimati", 9, 1),  # 23:00 on D there: tomorrow is still D+1
        ("Pacific/Kiritimati", 10, 2),  # past midnight there: D+1 is today, D+2 tomorrow
    ],
)
async def test_the_date_may_be_at_most_tomorrow_in_the_users_timezone(
    gql: GraphQLClient, session: AsyncSession, fran: Person, timezone: str, hours_later: int, latest_allowed: int
) -> None:
    # Given Fran lives in `timezone`, `hours_later` hours after midnight UTC
    await set_profile(session, fran.user, timezone=timezone)
    platform = await add_platform(session, fran.user)
    utc_day = today()
    clock.advance(timedelta(hours=hours_later) - timedelta(seconds=1))
    fran = await sign_in(session, fran.user)  # a fresh token: the first one expired meanwhile
    # When she records earnings dated on the last allowed day and the day after
    allowed = await record(gql, fran, platform, date=(utc_day + timedelta(days=latest_allowed)).isoformat())
    refused = await record(gql, fran, platform, date=(utc_day + timedelta(days=latest_allowed + 1)).isoformat())
    # Then the first is kept and the second refused on its date
    assert allowed["errors"] == []
    assert codes(refused) == [("date", "INVALID")]
    assert timezone in refused["errors"][0]["message"]


async def test_notes_of_exactly_2000_characters_are_kept(gql: GraphQLClient, session: AsyncSession,
                                                         fran: Person) -> None:
    platform = await add_platform(session, fran.user)
    payload = await record(gql, fran, platform, notes="n" * 2000)
    assert payload["errors"] == [] and len(payload["earning"]["notes"]) == 2000


async def test_a_platform_that_is_not_yours_does_not_exist(
    gql: GraphQLClient, session: AsyncSession, fran: Person, otto: Person
) -> None:
    # Given Otto's platform
    ottos = await add_platform(session, otto.user)
    # When Fran records an earning on it, or on a made-up id
    on_ottos = await record(gql, fran, ottos)
    on_nothing = await record(gql, fran, "not-a-global-id")
    # Then both read as a missing platform, and nothing is written
    assert codes(on_ottos) == codes(on_nothing) == [("platformId", "NOT_FOUND")]
    assert on_ottos["errors"][0]["message"] == on_nothing["errors"][0]["message"]
    assert await count(session, Earning) == 0


async def test_an_archived_platform_takes_no_new_earnings(
    gql: GraphQLClient, session: AsyncSession, fran: Person
) -> None:
    platform = await add_platform(session, fran.user, archived=True)
    payload = await record(gql, fran, platform)
    assert codes(payload) == [("platformId", "PLATFORM_ARCHIVED")]
    assert await count(session, Earning) == 0


async def update(gql: GraphQLClient, person: Person, earning: Earning, **fields: Any) -> dict[str, Any]:
    variables = {"input": {"id": gid("Earning", earning.id), **fields}}
    return (await gql.contract("earnings", "UpdateEarning", variables, token=person.token)).ok()["updateEarning"]


async def snapshot(session: AsyncSession, earning: Earning) -> tuple[Any, ...]:
    row = await session.scalar(select(Earning).where(Earning.id == earning.id).execution_options(
        populate_existing=True))
    assert row is not None
    return (row.platform_id, row.date, row.amount_minor, row.currency, row.hours_centi, row.notes)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"amount": "0"}, [("amount", "INVALID")]),
        ({"amount": "1.999"}, [("amount", "INVALID")]),
        ({"hours": "-0.5"}, [("hours", "INVALID")]),
        ({"notes": "x" * 2001}, [("notes", "INVALID")]),
        ({"date": "2999-01-01"}, [("date", "INVALID")]),
        ({"platformId": "bogus"}, [("platformId", "NOT_FOUND")]),
    ],
)
async def test_a_bad_correction_is_refused_and_changes_nothing(
    gql: GraphQLClient, session: AsyncSession, fran: Person, fields: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    platform = await add_platform(session, fran.user)
    earning = await add_earning(session, platform, today(), 10_000, hours_centi=100, notes="n")
    before = await snapshot(session, earning)
    payload = await update(gql, fran, earning, **fields)
    assert payload["earning"] is None and codes(payload) == expected
    assert await snapshot(session, earning) == before


async def test_an_earning_moves_to_another_active_platform_only(
    gql: GraphQLClient, session: AsyncSession, fran: Person, otto: Person
) -> None:
    # Given an earning on Upwork, an active Fiverr, an archived Toptal and Otto's platform
    upwork = await add_platform(session, fran.user, "Upwork")
    fiverr = await add_platform(session, fran.user, "Fiverr")
    toptal = await add_platform(session, fran.user, "Toptal", archived=True)
    ottos = await add_platform(session, otto.user, "Otto's")
    earning = await add_earning(session, upwork, today(), 10_000)
    # When Fran moves it to each
    to_archived = await update(gql, fran, earning, platformId=gid("Platform", toptal.id))
    to_ottos = await update(gql, fran, earning, platformId=gid("Platform", ottos.id))
    to_fiverr = await update(gql, fran, earning, platformId=gid("Platform", fiverr.id))
    # Then only the move to her active platform happens
    assert codes(to_archived) == [("platformId", "PLATFORM_ARCHIVED")]
    assert codes(to_ottos) == [("platformId", "NOT_FOUND")]
    assert to_fiverr["errors"] == []
    assert (await snapshot(session, earning))[0] == fiverr.id


async def test_an_earning_on_an_archived_platform_can_still_be_corrected(
    gql: GraphQLClient, session: AsyncSession, fran: Person
) -> None:
    platform = await add_platform(session, fran.user)
    earning = await add_earning(session, platform, today(), 10_000)
    platform.archived_at = clock.now()
    await session.commit()
    payload = await update(gql, fran, earning, amount="90")
    assert payload["errors"] == [] and payload["earning"]["amount"]["amount"] == "90.00"


async def test_an_old_date_can_stay_when_other_fields_change(
    gql: GraphQLClient, session: AsyncSession, fran: Person
) -> None:
    # An earning dated "tomorrow" yesterday is still correctable today, its date resent unchanged
    platform = await add_platform(session, fran.user)
    earning = await add_earning(session, platform, today() + timedelta(days=1), 10_000)
    payload = await update(gql, fran, earning, date=(today() + timedelta(days=1)).isoformat(), amount="1")
    assert payload["errors"] == []


async def test_someone_elses_earning_cannot_be_changed_or_deleted(
    gql: GraphQLClient, session: AsyncSession, fran: Person, otto: Person
) -> None:
    # Given Otto's earning
    platform = await add_platform(session, otto.user)
    earning = await add_earning(session, platform, today(), 10_000)
    before = await snapshot(session, earning)
    # When Fran tries to change and delete it
    changed = await update(gql, fran, earning, amount="1")
    deleted = (await gql.contract("earnings", "DeleteEarning", {"input": {"id": gid("Earning", earning.id)}},
                                  token=fran.token)).ok()["deleteEarning"]
    # Then it does not exist for her, and it is untouched
    assert codes(changed) == codes(deleted) == [("id", "NOT_FOUND")]
    assert await snapshot(session, earning) == before


LIST = """
query($first: Int, $after: String, $filter: EarningFilter) {
  me { earnings(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id date notes platform { name } } } } }
}
"""


async def test_the_list_is_newest_first_and_pages_through_everything(
    gql: GraphQLClient, session: AsyncSession, fran: Person
) -> None:
    # Given five earnings on three days, two recorded on the same day a second apart
    platform = await add_platform(session, fran.user)
    days = [today() - timedelta(days=d) for d in (2, 0, 1, 0, 2)]
    for n, day in enumerate(days):
        await add_earning(session, platform, day, 100 + n, notes=f"e{n}")
        clock.advance(timedelta(seconds=1))
    # When Fran pages through two at a time
    seen, after = [], None
    while True:
        data = (await gql.execute(LIST, {"first": 2, "after": after}, token=fran.token)).ok()
        page = data["me"]["earnings"]
        assert page["totalCount"] == 5
        seen += [edge["node"]["notes"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # Then she sees each once, by date and then the later recorded first
    assert seen == ["e3", "e1", "e2", "e4", "e0"]


async def test_the_list_filters_by_dates_and_platform(
    gql: GraphQLClient, session: AsyncSession, fran: Person, otto: Person
) -> None:
    upwork = await add_platform(session, fran.user, "Upwork")
    fiverr = await add_platform(session, fran.user, "Fiverr")
    ottos = await add_platform(session, otto.user, "Upwork")
    d = today()
    await add_earning(session, upwork, d - timedelta(days=10), 1, notes="old")
    await add_earning(session, upwork, d - timedelta(days=5), 1, notes="mid upwork")
    await add_earning(session, fiverr, d - timedelta(days=5), 1, notes="mid fiverr")
    await add_earning(session, upwork, d, 1, notes="new")
    await add_earning(session, ottos, d - timedelta(days=5), 1, notes="otto's")

    async def notes(filter: dict[str, Any]) -> list[str]:
        data = (await gql.execute(LIST, {"first": 10, "filter": filter}, token=fran.token)).ok()
        return sorted(edge["node"]["notes"] for edge in data["me"]["earnings"]["edges"])

    window = {"from": (d - timedelta(days=6)).isoformat(), "to": (d - timedelta(days=1)).isoformat()}
    assert await notes(window) == ["mid fiverr", "mid upwork"]
    assert await notes({**window, "platformId": gid("Platform", upwork.id)}) == ["mid upwork"]
    assert await notes({"from": d.isoformat()}) == ["new"]
    assert await notes({"to": (d - timedelta(days=10)).isoformat()}) == ["old"]
    # Otto's platform, or no platform at all, filters everything out
    assert await notes({"platformId": gid("Platform", ottos.id)}) == []
    assert await notes({"platformId": "bogus"}) == []


async def test_records_are_not_ledger_entries(gql: GraphQLClient, session: AsyncSession, fran: Person) -> None:
    # Earnings record income received elsewhere: recording one moves no balance in the ledger
    from db.models.ledger import JournalEntry, JournalPosting

    platform = await add_platform(session, fran.user)
    await record(gql, fran, platform)
    assert await count(session, JournalEntry) == await count(session, JournalPosting) == 0



@pytest.mark.postgres
async def test_of_two_deletes_at_once_the_second_finds_nothing(committed_runtime: Any) -> None:
    import asyncio

    from domain.actor import Actor, Role
    from domain.earnings.earnings import delete_earning
    from domain.errors import DomainError
    from tests.support.live import committed_person

    # Given an earning
    fran = await committed_person(committed_runtime, email="fran@example.com")
    async with committed_runtime.database.sessions() as session:
        earning = await add_earning(session, await add_platform(session, fran.user), today(), 100)
    actor = Actor(user_id=fran.user.id, role=Role.MEMBER)
    database = committed_runtime.database
    async with database.sessions() as first, database.sessions() as second:
        # When one tab deletes it and, before that commits, another tab deletes it too
        await delete_earning(first, actor, earning.id)
        late = asyncio.create_task(delete_earning(second, actor, earning.id))
        await asyncio.sleep(0.2)  # the second reaches the row and waits on the first's lock
        await first.commit()
        # Then the second is told it no longer exists, rather than "deleting" it again
        with pytest.raises(DomainError) as refused:
            await late
        assert refused.value.code == "NOT_FOUND"
