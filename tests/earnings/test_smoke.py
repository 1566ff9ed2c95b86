from tests.earnings.conftest import add_platform, record


async def test_smoke(gql, session, fran):
    platform = await add_platform(session, fran.user)
    payload = await record(gql, fran, platform, hours="3", notes="hi")
    print(payload)
    assert payload["errors"] == []
