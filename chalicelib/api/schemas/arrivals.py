"""The new arrivals the console's badge and "Da vedere" list show (GET /api/v1/reports/arrivals)."""
from __future__ import annotations

from datetime import datetime

from pydantic import Field

from chalicelib.api.schemas.common import Answer, Count, Query
from chalicelib.api.schemas.reports import ReportKind, kind


class Arrival(Answer):
    """A new report nobody has opened: what tells it apart, no personal data."""

    id: str
    number: str = Field(examples=["2026/42"])
    kind: ReportKind
    category: str | None
    hamlet: str | None
    source: str = Field(description="whatsapp, web, open311, desk, phone or email.")
    created_at: datetime
    after_hours: bool = Field(description="A tip that came outside the safety line's watched hours.")


class ArrivalCounts(Answer):
    report: Count | None = None
    safety: Count | None = None


class Arrivals(Answer):
    """New reports nobody who may read them has opened yet, per kind the roles reach."""

    count: Count = Field(description="All of them, of every kind listed in by_kind.")
    by_kind: ArrivalCounts
    items: list[Arrival] = Field(description="Up to 50 per kind: tips that came outside the watched hours first, "
                                             "then oldest first.")


class ArrivalsQuery(Query):
    kind: ReportKind | None = kind()
