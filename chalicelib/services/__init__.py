"""Use cases: inbound handling, subscriptions, outbound sending, staff operations."""
