"""Family learning and rewards: children, quiz tasks and answers, points, hidden gifts.

Services take (session, actor, data), flush and never commit; refusals are DomainErrors with
FamilyCode codes. Points move only through the ledger (domain.family.points).
"""
