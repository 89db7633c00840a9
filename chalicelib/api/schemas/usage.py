"""The usage and cost meter (api/usage.py): a month's messages per channel, the price table."""
from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api.schemas.common import Answer, Count, Query
from chalicelib.api.schemas.exports import ExportFormat, format_choice
from chalicelib.api.schemas.staff import ChannelKind
from chalicelib.domain.settings import Currency, MonthStart, Price, PriceSource

Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-12"])]


class UsageQuery(Query):
    month: Month | None = Field(None, description="The calendar month (Europe/Rome), YYYY-MM; default this month.")


class UsageExportQuery(UsageQuery):
    format: ExportFormat = format_choice()


class Categories(Answer):
    """A count per pricing category."""

    service: Count = Field(description="Free-form messages (inside the 24-hour window).")
    utility: Count
    marketing: Count
    authentication: Count


class PriceTableView(Answer):
    valid_from: date = Field(description="The first day of the month from which the prices apply.")
    currency: str = Field(examples=["EUR"])
    service: float
    utility: float
    marketing: float
    authentication: float
    source: str


class UsageChannel(Answer):
    channel: str
    name: str
    kind: ChannelKind
    messaging_limit: int = Field(description="The channel's setting: people reached outside the 24-hour window "
                                             "in 24 hours.")
    tier: str | None = Field(description="Meta's name of that limit (TIER_250, TIER_1K, TIER_2K, TIER_10K, "
                                         "TIER_100K); null for another value.")
    sent: Categories = Field(description="Counted when WhatsApp accepted the send.")
    billable: Categories = Field(description="Delivered and charged, as WhatsApp's status webhooks price them.")
    sent_total: Count
    billable_total: Count
    estimated_cost: float | None = Field(description="billable x the month's prices; null without a price table.")


class UsageTotals(Answer):
    sent: Categories
    billable: Categories
    sent_total: Count
    billable_total: Count
    estimated_cost: float | None


class UsageMonth(Answer):
    """A month's messages per channel the caller may see, with the estimated cost."""

    month: str
    prices: PriceTableView | None = Field(description="The table in force on the month's first day.")
    channels: list[UsageChannel]
    totals: UsageTotals


class PriceTables(Answer):
    """The comune's price tables, newest first."""

    tables: list[PriceTableView]
    current: date | None = Field(description="valid_from of the table in force this month.")


class PriceTableBody(BaseModel):
    """A price table: added, or replacing the one with the same valid_from (the others are kept)."""

    model_config = ConfigDict(extra="forbid")
    valid_from: MonthStart = Field(description="The first day of a month, e.g. 2026-10-01.")
    currency: Currency = "EUR"
    service: Price = 0
    utility: Price
    marketing: Price
    authentication: Price
    source: PriceSource = ""

