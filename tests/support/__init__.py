"""Test helpers: backends, a GraphQL client that speaks like the React client, a websocket client."""
