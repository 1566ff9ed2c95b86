"""Account mutations, in two root types: signing in, and the signed-in account's security."""

from graph.accounts.mutations.account import AccountMutation
from graph.accounts.mutations.sign_in import SignInMutation

__all__ = ["AccountMutation", "SignInMutation"]
