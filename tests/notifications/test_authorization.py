"""Who may use the bell: everybody signed in, for their own notifications only."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from domain.actor import Role
from domain.notifications.service import notify
from tests.accounts.conftest import make_person
from tests.support.client import GraphQLClient

OPERATIONS = {
    "markNotificationsRead": ('mutation { markNotificationsRead(input: {all: true}) { unreadCount } }',
                              lambda d: d["markNotificationsRead"]["unreadCount"]),
    "setNotificationPreference": (
        'mutation { setNotificationPreference(input: {type: "x", channel: SMS, enabled: true}) { ok } }',
        lambda d: d["setNotificationPreference"]["ok"]),
    "setQuietHours": ('mutation { setQuietHours(input: {starts: "22:00:00", ends: "07:00:00"}) { ok } }',
                      lambda d: d["setQuietHours"]["ok"]),
    "me.notifications": ("{ me { unreadNotificationCount notifications { totalCount } quietHours { starts } } }",
                         lambda d: d["me"]["notifications"]["totalCount"]),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
async def test_signed_out_is_unauthenticated(gql: GraphQLClient, operation: str) -> None:
    query, _ = OPERATIONS[operation]
    response = await gql.execute(query)
    if operation.startswith("me."):
        assert response.ok() == {"me": None}
    else:
        assert response.error_codes == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("role", [Role.CHILD, Role.MEMBER, Role.ADMIN])
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
async def test_every_role_works_on_its_own_bell_only(
    gql: GraphQLClient, session: AsyncSession, role: Role, operation: str
) -> None:
    # Given somebody else with two unread notifications, and the viewer with one
    other = await make_person(session, email="other@example.com", name="Other")
    viewer = await make_person(
        session, email=None if role is Role.CHILD else "viewer@example.com", role=role,
        username="kid" if role is Role.CHILD else None, name="Viewer",
    )
    for person, count in ((other, 2), (viewer, 1)):
        for _ in range(count):
            await notify(session, person.user.id, type="t", title="t", message="m")
    query, read = OPERATIONS[operation]
    # When the viewer runs the operation
    data = (await gql.execute(query, token=viewer.token)).ok()
    # Then it sees or touches its own notifications only (staff roles included)
    expected = {"markNotificationsRead": 0, "me.notifications": 1}.get(operation, True)
    assert read(data) == expected
    other_unread = (await gql.execute("{ me { unreadNotificationCount } }", token=other.token)).ok()
    assert other_unread["me"]["unreadNotificationCount"] == 2
