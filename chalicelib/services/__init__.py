"""Use cases, one package per bounded context; `inbound` dispatches each citizen message to its context.

Shared by every context: `access` (which staff may see which channel, and the audit trail), `abuse` (counted
limits), `clock` (the time) and `health` (readiness). A context calls another through its functions, never
through its tables.
"""
