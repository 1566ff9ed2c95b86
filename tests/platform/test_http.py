"""The HTTP face: GraphQL over HTTP, bad input, request ids, health and metrics."""

from __future__ import annotations

import pytest

from graph.app import create_app
from tally.runtime import Runtime
from tally.settings import load_settings
from tests.support.client import GraphQLClient


async def test_typename_answers_over_post(gql: GraphQLClient) -> None:
    # When the client asks the smallest question
    response = await gql.execute("{ __typename }")
    # Then it gets the answer and a request id to quote in a bug report
    assert response.status == 200
    assert response.ok() == {"__typename": "Query"}
    assert len(response.http.headers["x-request-id"]) >= 8


async def test_a_client_request_id_is_kept(gql: GraphQLClient) -> None:
    response = await gql.execute("{ __typename }", headers={"x-request-id": "client-trace-0001"})
    assert response.http.headers["x-request-id"] == "client-trace-0001"


async def test_a_forged_request_id_is_replaced(gql: GraphQLClient) -> None:
    response = await gql.execute("{ __typename }", headers={"x-request-id": "bad id\twith spaces"})
    assert response.http.headers["x-request-id"] != "bad id\twith spaces"


async def test_malformed_json_is_a_400_not_a_500(gql: GraphQLClient) -> None:
    response = await gql.http.post("/graphql", content=b"{bad", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "Traceback" not in response.text


async def test_a_wrong_content_type_is_refused(gql: GraphQLClient) -> None:
    response = await gql.http.post("/graphql", content=b"query", headers={"content-type": "text/plain"})
    assert response.status_code in (400, 415)
    assert "Traceback" not in response.text


async def test_a_mutation_over_get_is_refused(gql: GraphQLClient) -> None:
    # Given a schema with mutations (the accounts domain brings the first)
    if not (await gql.execute("{ __schema { mutationType { name } } }")).ok()["__schema"]["mutationType"]:
        pytest.skip("no mutation type yet")
    response = await gql.http.get("/graphql", params={"query": "mutation { __typename }"})
    assert response.status_code == 405


async def test_an_unknown_field_is_a_graphql_error(gql: GraphQLClient) -> None:
    response = await gql.execute("{ doesNotExist }")
    assert response.data is None
    assert "doesNotExist" in response.errors[0]["message"]


async def test_graphiql_is_served_in_development(runtime: Runtime) -> None:
    settings = load_settings(env="development", database_url=runtime.settings.database_url, secret_key="d" * 40)
    client = GraphQLClient(create_app(settings=settings, runtime=runtime))
    response = await client.http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()
    await client.aclose()


async def test_production_hides_graphiql_and_introspection(runtime: Runtime) -> None:
    # Given the app as production runs it
    settings = load_settings(env="production", database_url=runtime.settings.database_url, secret_key="p" * 40)
    client = GraphQLClient(create_app(settings=settings, runtime=runtime))
    # When a browser asks for the IDE, and a client introspects
    page = await client.http.get("/graphql", headers={"accept": "text/html"})
    introspection = await client.execute("{ __schema { queryType { name } } }")
    # Then neither is offered
    assert "graphiql" not in page.text.lower()
    assert introspection.data is None and introspection.errors
    await client.aclose()


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ("{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }", "aliases"),
        ("{ " + "__typename " * 5001 + "}", "tokens"),
    ],
)
async def test_queries_over_the_limits_are_refused(gql: GraphQLClient, query: str, why: str) -> None:
    response = await gql.execute(query)
    assert response.data is None, why
    assert response.errors, why
    assert response.status in (200, 400)


async def test_liveness(gql: GraphQLClient) -> None:
    response = await gql.http.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readiness_names_database_and_redis(gql: GraphQLClient, runtime: Runtime) -> None:
    response = await gql.http.get("/health/ready")
    body = response.json()
    assert response.status_code == 200
    assert body["checks"]["database"] == "up"
    assert body["checks"]["redis"] == ("up" if runtime.settings.redis_url else "not configured")


async def test_readiness_is_503_when_the_database_is_down(tmp_path) -> None:
    # Given a database URL nothing answers on, and a Redis nobody listens to
    settings = load_settings(
        env="test",
        database_url="postgresql://nobody@127.0.0.1:1/none",
        redis_url="redis://127.0.0.1:1/0",
        secret_key="x" * 40,
    )
    runtime = Runtime(settings)
    client = GraphQLClient(create_app(runtime=runtime))
    # When the load balancer asks
    response = await client.http.get("/health/ready")
    # Then it is told to send no traffic here, and why
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "down", "redis": "down"}
    await client.aclose()
    await runtime.redis.aclose()
    await runtime.database.dispose()


async def test_metrics_are_prometheus_text(gql: GraphQLClient) -> None:
    await gql.execute("{ __typename }")
    response = await gql.http.get("/metrics")
    assert response.status_code == 200
    assert "tally_http_requests_total" in response.text
    assert 'path="/graphql"' in response.text


async def test_a_request_error_is_a_400_with_the_graphql_response_media_type(gql: GraphQLClient) -> None:
    # When a client that speaks the newer media type sends a document that does not parse
    response = await gql.http.post(
        "/graphql",
        json={"query": "{ __typename"},
        headers={"accept": "application/graphql-response+json"},
    )
    # Then it is a 400 in that media type, with errors and no data entry
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    assert "data" not in response.json() and response.json()["errors"]


async def test_a_plain_json_client_keeps_getting_200(gql: GraphQLClient) -> None:
    response = await gql.http.post("/graphql", json={"query": "{ __typename"}, headers={"accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")


async def test_a_repeated_document_is_validated_once(gql: GraphQLClient) -> None:
    # The validation cache is keyed by the rules too: rebuilt rules per request would never hit.
    from strawberry.extensions.validation_cache import _get_validate_cache

    cached = _get_validate_cache(1024)
    query = "query RepeatedProbe { __typename node(id: \"x\") { id } }"
    await gql.execute(query)
    before = cached.cache_info()
    await gql.execute(query)
    after = cached.cache_info()
    assert (after.hits - before.hits, after.misses - before.misses) == (1, 0)


async def test_a_malformed_date_variable_is_the_clients_mistake_not_a_server_error(gql: GraphQLClient) -> None:
    # The Date scalar refuses the text while variables are coerced; that used to be masked as
    # INTERNAL_SERVER_ERROR (and logged as a server failure).
    query = "query($on: Date!) { me { earningsSummary(from: $on, to: $on) { from } } }"
    response = await gql.execute(query, {"on": "not a date"})
    assert response.status == 400 and response.data is None
    assert response.error_codes == ["BAD_USER_INPUT"]
    assert "not a date" in response.errors[0]["message"]
    assert "requestId" not in response.errors[0]["extensions"]
