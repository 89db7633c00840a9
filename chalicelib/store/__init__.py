"""Persistence adapters: PynamoDB models, the repositories over them, and the queues."""
