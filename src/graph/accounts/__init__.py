"""GraphQL for accounts: the viewer, sign-up and sign-in, tokens, two-factor, password flows."""
