"""Subscriptions to a broadcast channel: the WhatsApp conversation (opt-in, double opt-in, preferences, opt-out),
the web form, the staff's subscriber list and CSV import, and the consent ledger each of them writes."""
