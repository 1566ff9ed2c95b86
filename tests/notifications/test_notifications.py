"""The bell: notifications listed newest first, counted, marked read; email per preference."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from db.models.notifications import MessageChannel, Notification, OutboxMessage
from domain.notifications import preferences
from domain.notifications.service import notify
from tally.clock import clock
from tally.runtime import Runtime
from tests.accounts.conftest import Person, make_person, make_user
from tests.support.client import GraphQLClient


def gid(row: Notification) -> str:
    return str(relay.GlobalID("Notification", str(row.id)))


async def given_notifications(session: AsyncSession, person: Person, count: int) -> list[Notification]:
    rows = []
    for n in range(count):
        rows.append(await notify(session, person.user.id, type="test.event", title=f"t{n}", message=f"m{n}"))
        clock.advance(timedelta(seconds=1))
    await session.flush()
    return rows


async def test_the_bell_lists_newest_first_and_counts_unread(gql: GraphQLClient, session: AsyncSession) -> None:
    # Given a person with three notifications
    ada = await make_person(session)
    rows = await given_notifications(session, ada, 3)
    # When the client asks for the first two
    data = (await gql.contract("notifications", "Notifications", {"first": 2}, token=ada.token)).ok()["me"]
    # Then it gets the newest two, the total and the unread count
    assert data["unreadNotificationCount"] == 3
    page = data["notifications"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["title"] for e in page["edges"]] == ["t2", "t1"]
    assert page["edges"][0]["node"] | {"createdAt": None} == {
        "id": gid(rows[2]), "type": "test.event", "title": "t2", "message": "m2", "style": "TOAST",
        "read": False, "createdAt": None,
    }
    # And the next page holds the oldest
    after = page["pageInfo"]["endCursor"]
    rest = (await gql.contract("notifications", "Notifications", {"first": 2, "after": after}, token=ada.token)).ok()
    assert [e["node"]["title"] for e in rest["me"]["notifications"]["edges"]] == ["t0"]


async def test_marking_some_read_leaves_the_rest(gql: GraphQLClient, session: AsyncSession) -> None:
    ada = await make_person(session)
    rows = await given_notifications(session, ada, 3)
    variables = {"input": {"ids": [gid(rows[0])]}}
    result = (await gql.contract("notifications", "MarkNotificationsRead", variables, token=ada.token)).ok()
    result = result["markNotificationsRead"]
    assert result == {"unreadCount": 2, "errors": []}
    unread = (
        await gql.contract("notifications", "Notifications", {"unreadOnly": True}, token=ada.token)
    ).ok()["me"]["notifications"]
    assert [e["node"]["title"] for e in unread["edges"]] == ["t2", "t1"]


async def test_marking_all_read(gql: GraphQLClient, session: AsyncSession) -> None:
    ada = await make_person(session)
    await given_notifications(session, ada, 3)
    result = (await gql.contract("notifications", "MarkNotificationsRead", {"input": {"all": True}}, token=ada.token))
    assert result.ok()["markNotificationsRead"] == {"unreadCount": 0, "errors": []}


async def test_another_users_notification_is_not_found_and_nothing_changes(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    # Given Ada's notification, and Bob who knows its id
    ada = await make_person(session)
    bob = await make_person(session, email="bob@example.com", name="Bob")
    (row,) = await given_notifications(session, ada, 1)
    mine = await given_notifications(session, bob, 1)
    # When Bob marks it (with one of his own) read
    result = await gql.contract(
        "notifications", "MarkNotificationsRead", {"input": {"ids": [gid(mine[0]), gid(row)]}}, token=bob.token
    )
    # Then it does not exist for him, and nothing was marked, not even his own
    assert result.ok()["markNotificationsRead"]["errors"] == [
        {"field": "ids", "code": "NOT_FOUND", "message": "No such notification."}
    ]
    assert (await session.scalar(select(Notification.read_at).where(Notification.id == row.id))) is None
    assert (await session.scalar(select(Notification.read_at).where(Notification.id == mine[0].id))) is None
    # And node(id:) does not show it to him either
    assert (await gql.contract("accounts", "NodeById", {"id": gid(row)}, token=bob.token)).ok() == {"node": None}
    own = (await gql.contract("accounts", "NodeById", {"id": gid(row)}, token=ada.token)).ok()
    assert own["node"]["id"] == gid(row)


async def test_ids_and_all_together_or_neither_are_invalid(gql: GraphQLClient, session: AsyncSession) -> None:
    ada = await make_person(session)
    (row,) = await given_notifications(session, ada, 1)
    for bad in ({}, {"ids": [gid(row)], "all": True}, {"ids": []}):
        result = await gql.contract("notifications", "MarkNotificationsRead", {"input": bad}, token=ada.token)
        assert [e["code"] for e in result.ok()["markNotificationsRead"]["errors"]] == ["INVALID"]
    assert (await session.scalar(select(Notification.read_at).where(Notification.id == row.id))) is None


async def test_signed_out_the_bell_is_refused(gql: GraphQLClient) -> None:
    assert (await gql.contract("notifications", "Notifications", {})).ok() == {"me": None}
    result = await gql.contract("notifications", "MarkNotificationsRead", {"input": {"all": True}})
    assert result.error_codes == ["UNAUTHENTICATED"]


async def test_email_follows_the_preference_and_sms_is_opt_in(session: AsyncSession, runtime: Runtime) -> None:
    # Given a person with a phone who asked for SMS on one type and turned email off on another
    ada = await make_person(session, phone="+15550100000")
    await preferences.set_preference(session, ada.user.id, "family.task", MessageChannel.SMS, True)
    await preferences.set_preference(session, ada.user.id, "security.new_sign_in", MessageChannel.EMAIL, False)
    # When notifications of three types arrive
    for type_ in ("family.task", "security.new_sign_in", "family.gift_unlocked"):
        await notify(session, ada.user.id, type=type_, title=type_, message="...")
    # Then the outbox holds SMS for the first, nothing for the second, email (by default) for the third
    sent = (await session.execute(select(OutboxMessage.kind, OutboxMessage.channel))).all()
    assert sorted(sent) == [("family.gift_unlocked", MessageChannel.EMAIL), ("family.task", MessageChannel.SMS)]


async def test_quiet_hours_hold_email_back_but_never_security(session: AsyncSession) -> None:
    # Given quiet hours that cover now (the tests' clock starts just after midnight UTC)
    ada = await make_person(session)
    await preferences.set_quiet_hours(session, ada.user.id, time(22, 0), time(7, 0), "UTC")
    # When a gift unlocks and a new device signs in
    await notify(session, ada.user.id, type="family.gift_unlocked", title="gift", message="...")
    await notify(session, ada.user.id, type="security.new_sign_in", title="security", message="...")
    rows = {r.kind: r for r in (await session.scalars(select(OutboxMessage))).all()}
    # Then the gift's email waits for 07:00 and the security notice goes now
    assert rows["family.gift_unlocked"].next_attempt_at.time() == time(7, 0)
    assert rows["security.new_sign_in"].next_attempt_at <= clock.now()


async def test_a_new_device_sign_in_is_notified(gql: GraphQLClient, session: AsyncSession) -> None:
    # Given Ada, whose first sign-in ever is on one browser (no news: nothing to compare with)
    ada = await make_user(session)
    login = {"input": {"login": "ada@example.com", "password": "correct horse battery"}}
    await gql.execute(_LOGIN, login, headers={"user-agent": "Firefox"})
    # When she signs in again on that browser, then on a phone
    await gql.execute(_LOGIN, login, headers={"user-agent": "Firefox"})
    await gql.execute(_LOGIN, login, headers={"user-agent": "Phone"})
    # Then exactly one notice names the new device, and it went by email too
    notices = (await session.scalars(select(Notification).where(Notification.recipient_id == ada.id))).all()
    assert [(n.type, n.data["userAgent"]) for n in notices] == [("security.new_sign_in", "Phone")]
    mail = (await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "security.new_sign_in"))).all()
    assert [m.recipient for m in mail] == ["ada@example.com"]


_LOGIN = "mutation($input: LoginInput!) { login(input: $input) { accessToken errors { code } } }"
