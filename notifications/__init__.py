"""Notifications: a transactional outbox of e-mails carrying a reference and a link only."""
