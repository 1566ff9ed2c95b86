"""Freelancer earnings: platforms, plans and settings, earnings, goals, summaries and exports.

Earnings record income that happened elsewhere; they are not balances Tally holds, so this
domain never posts to the ledger.
"""
