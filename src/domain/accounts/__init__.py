"""Accounts: who people are and how they prove it.

Sign-up, sign-in (password, lockout, two-factor), tokens and their revocation, email flows,
rate limits and the security audit trail. Services are `(session, actor, data)` functions that
flush and never commit; see `errors.AttemptRefused` for the one kind of refusal that keeps its
writes (the record of a failed attempt).
"""
