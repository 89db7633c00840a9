"""The usage meter's rules: messages counted per channel and calendar month (Europe/Rome) by pricing category,
the month's price table and the estimated cost (docs/decisions.md, "Usage and cost meter").

Two figures per category: `sent`, counted when WhatsApp accepted a send (what we sent: a free-form message is
`service`, a template is its category); `billable`, counted from WhatsApp's status webhooks when the message was
delivered and priced as charged (Meta's pricing.type 'regular'): the authority on what Meta bills. The estimated
cost is billable x the price of the table in force on the month's first day."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from chalicelib.domain.settings import PriceTable

CATEGORIES = ("service", "utility", "marketing", "authentication")
FIGURES = ("sent", "billable")
ROME = ZoneInfo("Europe/Rome")
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
# Meta's pricing categories as the meter groups them (its rate card prices these variants apart; the comune's
# table has the four families)
META_CATEGORIES = {"service": "service", "referral_conversion": "service", "utility": "utility",
                   "marketing": "marketing", "marketing_lite": "marketing", "authentication": "authentication",
                   "authentication-international": "authentication", "authentication_international": "authentication"}
# Meta's messaging-limit tiers (unique people reached outside the 24-hour window in a moving 24 hours)
TIERS = {250: "TIER_250", 1000: "TIER_1K", 2000: "TIER_2K", 10_000: "TIER_10K", 100_000: "TIER_100K"}
COST_PLACES = Decimal("0.0001")


def month_of(moment: datetime) -> str:
    """The calendar month (YYYY-MM) of an instant, in Italy: 30 November 23:30 UTC is December there."""
    return moment.astimezone(ROME).strftime("%Y-%m")


def first_day(month: str) -> date:
    """The first day of a YYYY-MM month; ValueError for anything else."""
    found = MONTH.match(month or "")
    if not found:
        raise ValueError("month must be YYYY-MM, e.g. 2026-12")
    return date(int(found.group(1)), int(found.group(2)), 1)


def category_of(meta_category: str | None) -> str | None:
    """One of CATEGORIES for a category Meta reports, None for one the meter does not know."""
    return META_CATEGORIES.get((meta_category or "").lower())


def field_name(figure: str, category: str) -> str:
    """Where a figure of a category is counted: sent_utility, billable_marketing..."""
    return f"{figure}_{category}"


def tier(messaging_limit: int) -> str | None:
    """Meta's name for the channel's messaging limit, when it is one of Meta's tiers."""
    return TIERS.get(messaging_limit)


def table_for(tables: Iterable[PriceTable], month: str) -> PriceTable | None:
    """The price table in force on the month's first day: the latest valid_from on or before it."""
    start = first_day(month)
    valid = [t for t in tables if t.valid_from <= start]
    return max(valid, key=lambda t: t.valid_from) if valid else None


def cost(billable: Mapping[str, int], table: PriceTable | None) -> Decimal | None:
    """Billable messages x the table's prices, to 4 decimals; None without a table."""
    if table is None:
        return None
    total = sum((Decimal(str(getattr(table, c))) * int(billable.get(c, 0)) for c in CATEGORIES), Decimal(0))
    return total.quantize(COST_PLACES)
