"""Vicinato routes the console added (api/vicinato.py): an active member made coordinator or stand-in of their zone."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PromotionBody(BaseModel):
    """An active member (chosen by handle) made coordinator or stand-in of their own zone."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["coordinator", "stand_in"]
    prefettura_date: date | None = Field(None, description="The Prefettura's nulla osta, when it gave one.")
    prefettura_ref: str | None = Field(None, max_length=100)
