"""Allerte (api/alerts.py): the console's overview of the comune's alerts."""
from __future__ import annotations

from typing import Any

from pydantic import Field

from chalicelib.api.schemas.common import Answer


class AlertFeedView(Answer):
    """An official feed the comune watches, and how its reads go."""

    id: str
    kind: str = Field(description="dpc or cap")
    url: str
    status: str = Field(description="ok, failing, silent (no good read for over a day) or waiting (never read)")
    ok_at: str | None = None
    checked_at: str | None = None
    failures: int = 0
    error: str | None = None
    next_at: str | None = None
    alerts: int = 0


class AlertZoneView(Answer):
    """One of the comune's alert zones and its current level."""

    code: str = Field(description="A DPC alert zone, e.g. Emil-F1, or a CAP geocode")
    name: str
    level: str = Field(description="green, yellow, orange or red: the worst of the active alerts")
    hazards: dict[str, str] = Field(description="level per hazard")
    hamlets: list[str]


class AlertSeriesView(Answer):
    """An alert series as last told to the comune, with its versions."""

    series: str
    source: str
    hazard: str
    identifier: str
    headline: str
    link: str
    expires: str | None = None
    active: bool
    levels: dict[str, str] = Field(description="level per hamlet as last read")
    told: dict[str, str] = Field(description="level per hamlet a notice was made for, not yet ended")
    history: list[dict[str, Any]] = Field(description="versions, newest last, with the broadcasts each made")
    updated_at: str


class AlertDraftView(Answer):
    """An alert notice waiting for a person to approve it."""

    id: str
    status: str
    text: str
    level: str | None = None
    kind: str | None = None
    audience: dict[str, list[str]]
    created_at: str


class AlertsOverview(Answer):
    """The comune's alerts: feeds, zones' current levels, history, drafts waiting and alert broadcasts."""

    enabled: bool
    feeds: list[AlertFeedView]
    zones: list[AlertZoneView]
    series: list[AlertSeriesView]
    drafts: list[AlertDraftView]
    broadcasts: list[dict[str, Any]] = Field(description="alert broadcasts with their status and counters")
    rules: dict[str, dict[str, str]] = Field(description="per hazard and level: nothing, draft or auto")
    red_to_everyone: bool
    topic: str
