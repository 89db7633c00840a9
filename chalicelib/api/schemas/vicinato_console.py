"""Vicinato routes the console added (api/vicinato.py): an active member made coordinator or stand-in of their zone;
who may be a zone's police referent."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api.schemas.common import Answer


class PromotionBody(BaseModel):
    """An active member (chosen by handle) made coordinator or stand-in of their own zone."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["coordinator", "stand_in"]
    prefettura_date: date | None = Field(None, description="The Prefettura's nulla osta, when it gave one.")
    prefettura_ref: str | None = Field(None, max_length=100)


class Referent(Answer):
    """A staff member who may be a zone's police referent."""

    id: str = Field(description="The staff subject, as zones[].police_referent takes it.")
    name: str


class ReferentList(Answer):
    """The comune's enabled police staff."""

    items: list[Referent]
