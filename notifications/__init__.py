"""Notifications: turn the outbox's events into deliveries (e-mail, in-app, webhooks, SMS) and
send them after commit, with retries, backoff and a dead-letter list. Imports ``workflows``;
nothing in ``workflows`` imports this room.
"""
