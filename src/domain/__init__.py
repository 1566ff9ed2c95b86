"""Business rules: plain async functions taking (session, actor, data). No GraphQL, no HTTP."""
