"""Notifications: for now the email/SMS outbox and its providers; in-app notifications come next."""
