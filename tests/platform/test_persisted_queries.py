"""Automatic persisted queries: a hash stands for a document the client sent once."""

from __future__ import annotations

import hashlib
import json

from tests.support.client import GraphQLClient

QUERY = "query Probe { __typename }"
HASH = hashlib.sha256(QUERY.encode()).hexdigest()


def _extensions(digest: str = HASH) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def test_an_unknown_hash_asks_for_the_document(gql: GraphQLClient) -> None:
    response = await gql.post({"extensions": _extensions()})
    body = response.json()
    assert response.status_code == 200
    assert body["errors"] == [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]


async def test_a_registered_hash_runs_its_document_by_post_and_get(gql: GraphQLClient) -> None:
    # Given the client sent the document once with its hash
    first = await gql.post({"query": QUERY, "extensions": _extensions()})
    assert first.json() == {"data": {"__typename": "Query"}}
    # When it sends the hash alone, by POST and by GET
    again = await gql.post({"extensions": _extensions()})
    by_get = await gql.http.get("/graphql", params={"extensions": json.dumps(_extensions())})
    # Then the stored document runs
    assert again.json() == {"data": {"__typename": "Query"}}
    assert by_get.json() == {"data": {"__typename": "Query"}}


async def test_a_hash_that_does_not_match_is_refused_and_not_stored(gql: GraphQLClient) -> None:
    wrong = "0" * 64
    response = await gql.post({"query": QUERY, "extensions": _extensions(wrong)})
    assert response.json()["errors"][0]["message"] == "provided sha does not match query"
    assert (await gql.post({"extensions": _extensions(wrong)})).json()["errors"][0]["extensions"] == {
        "code": "PERSISTED_QUERY_NOT_FOUND"
    }


async def test_a_malformed_persisted_query_is_a_client_error(gql: GraphQLClient) -> None:
    for extensions in ({"persistedQuery": {"version": 2, "sha256Hash": HASH}},
                       {"persistedQuery": {"version": 1, "sha256Hash": "zz"}},
                       {"persistedQuery": "yes"}):
        body = (await gql.post({"extensions": extensions})).json()
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
