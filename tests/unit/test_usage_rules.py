"""The usage meter's rules (domain/usage.py, the `prices` setting) and how Meta's pricing object is read."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from chalicelib.domain import usage
from chalicelib.domain.settings import tenant_settings
from chalicelib.providers.meta.inbound import parse


def tables(*raw: dict):
    return tenant_settings({"prices": list(raw)}).prices


@pytest.mark.parametrize("moment, month", [
    (datetime(2026, 11, 30, 22, 59, tzinfo=UTC), "2026-11"),  # 23:59 in Rome (CET, UTC+1)
    (datetime(2026, 11, 30, 23, 0, tzinfo=UTC), "2026-12"),  # midnight in Rome
    (datetime(2026, 6, 30, 21, 59, tzinfo=UTC), "2026-06"),  # 23:59 in summer (CEST, UTC+2)
    (datetime(2026, 6, 30, 22, 0, tzinfo=UTC), "2026-07"),
    (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "2027-01"),  # a year boundary
])
def test_a_month_is_the_calendar_month_in_italy(moment, month):
    assert usage.month_of(moment) == month


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "2026-1", "26-01", "", "2026-01-01"])
def test_a_month_is_yyyy_mm(month):
    with pytest.raises(ValueError):
        usage.first_day(month)


def test_a_month_is_priced_with_the_table_in_force_on_its_first_day():
    history = tables({"valid_from": "2025-07-01", "marketing": 0.0592}, {"valid_from": "2026-10-01", "marketing": 0.0615})
    assert usage.table_for(history, "2025-06") is None
    assert usage.table_for(history, "2025-07").valid_from == date(2025, 7, 1)
    assert usage.table_for(history, "2026-09").marketing == 0.0592
    assert usage.table_for(history, "2026-10").marketing == 0.0615
    assert usage.table_for(history, "2030-01").marketing == 0.0615


def test_the_cost_is_billable_times_the_prices_exactly():
    (table,) = tables({"valid_from": "2025-07-01", "marketing": 0.0592, "utility": 0.0258, "authentication": 0.0258})
    cost = usage.cost({"utility": 3, "marketing": 7, "authentication": 1, "service": 40}, table)
    assert cost == Decimal("0.0258") * 4 + Decimal("0.0592") * 7
    assert usage.cost({"utility": 1}, None) is None


@pytest.mark.parametrize("prices, knob", [
    ([{"valid_from": "2026-10-15"}], "valid_from"), ([{"valid_from": "2026-10-01", "utility": -0.01}], "utility"),
    ([{"valid_from": "2026-10-01", "marketing": 10.5}], "marketing"), ([{"valid_from": "2026-10-01", "currency": "eur"}],
                                                                        "currency"),
    ([{"valid_from": "2026-10-01"}, {"valid_from": "2026-10-01"}], "same valid_from"),
    ([{"valid_from": f"{2000 + n // 12}-{n % 12 + 1:02d}-01"} for n in range(61)], "prices"),
])
def test_a_bad_price_table_is_refused_naming_the_knob(prices, knob):
    with pytest.raises(ValueError, match=knob):
        tenant_settings({"prices": prices})


@pytest.mark.parametrize("category, meter", [
    ("marketing_lite", "marketing"), ("authentication-international", "authentication"), ("UTILITY", "utility"),
    ("referral_conversion", "service"), ("something_new", None), (None, None)])
def test_meta_categories_fall_into_the_four_families(category, meter):
    assert usage.category_of(category) == meter


@pytest.mark.parametrize("pricing, billable", [
    ({"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}, True),
    ({"billable": False, "pricing_model": "PMP", "type": "free_customer_service", "category": "utility"}, False),
    ({"pricing_model": "PMP", "type": "free_entry_point", "category": "marketing"}, False),
    ({"billable": True, "pricing_model": "CBP", "category": "service"}, True),  # before July 2025: no type
    ({"category": 12}, False),  # unreadable parts are dropped, the status is kept
])
def test_a_status_carries_what_meta_charges(pricing, billable):
    body = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "1", "phone_number_id": "100000000000001"},
        "statuses": [{"id": "wamid.X", "status": "delivered", "timestamp": "1767225600", "recipient_id": "393330000000",
                      "pricing": pricing}]}}]}]}
    (status,) = parse(json.dumps(body).encode()).statuses
    assert status.pricing is not None and status.pricing.billable is billable
