"""The audit log viewer's answers and query parameters (api/audit.py)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field

from chalicelib.api.schemas.common import Answer, Query, cursor, next_page, page_size
from chalicelib.api.schemas.exports import ExportFormat, format_choice


class AuditLogEntry(Answer):
    at: datetime
    actor: str = Field(description="The staff member's id at the identity provider (what the actor filter takes).")
    actor_name: str = Field(description="Their display name then; else the roster's; else \"sconosciuto\".")
    action: str = Field(examples=["subscriber.read", "refused.403"])
    action_label: str = Field(examples=["Iscritto consultato"], description="The action in Italian.")
    refused: bool = Field(description="A refused attempt (403: not allowed; 404: nothing of the comune there).")
    target: str = Field(description="What it was about: a channel and number, a report id, a request's path...")
    request_id: str | None
    changed: bool = Field(description="A change: before and after hold the values (JSON).")
    before: Any = None
    after: Any = None


class AuditLog(Answer):
    """Entries newest first, the filters applied."""

    items: list[AuditLogEntry]
    next: str | None = next_page()


class AuditFilterQuery(Query):
    actor: str | None = Field(None, description="A staff member's id (GET /api/v1/audit/filters lists them by name).")
    action: str | None = Field(None, examples=["subscriber.read", "refused."],
                               description="An action, or a prefix ending in '.' for a family.")
    object: str | None = Field(None, examples=["+39 333 765 4321", "2026-0000042"], description=(
        "Words the target contains: a phone number in any usual writing (matched as stored), a report id..."))
    from_: date | None = Field(None, alias="from", description="First day (Europe/Rome), included.")
    to: date | None = Field(None, description="Last day (Europe/Rome), included; default today.")


class AuditQuery(AuditFilterQuery):
    limit: int = page_size(50)
    cursor: str | None = cursor()


class AuditExportQuery(AuditFilterQuery):
    format: ExportFormat = format_choice()


class AuditPerson(Answer):
    subject: str
    name: str


class AuditAction(Answer):
    value: str = Field(description="An action, or a family's prefix ending in '.'.")
    label: str


class AuditFilters(Answer):
    """What the viewer's pickers offer: the comune's staff by name, and every action with its Italian label."""

    people: list[AuditPerson]
    actions: list[AuditAction]
