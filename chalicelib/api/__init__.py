"""HTTP entry points as Chalice blueprints: webhooks, staff API, public endpoints."""
