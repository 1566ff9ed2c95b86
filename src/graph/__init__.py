"""The GraphQL face of Tally: the Starlette app, the schema, and one folder per domain."""
