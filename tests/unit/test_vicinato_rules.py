"""Vicinato's pure rules (domain/vicinato.py): handles never carry a house number, guard-rail words, escalation and
the monthly median."""
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import settings
from chalicelib.domain.vicinato import (
    VicinatoSettings,
    escalation,
    handle,
    is_emergency,
    median_minutes,
    street_of,
    suggests_vigilantism,
)


@pytest.mark.parametrize("address, street", [
    ("Via Roma 12", "Via Roma"), ("via Roma, 12", "via Roma"), ("Via Roma 12/B, interno 3", "Via Roma"),
    ("Piazza XX Settembre 4", "Piazza XX Settembre"), ("Via Dante n. 7 scala A", "Via Dante"),
    ("Località Il Poggio", "Località Il Poggio"), ("", None), (None, None)])
def test_the_street_of_an_address_keeps_no_house_number_nor_what_follows(address, street):
    assert street_of(address) == street


def test_a_handle_names_a_number_and_a_street_only():
    assert handle(12, "via Roma") == "Vicino 12 · via Roma"
    assert handle(None, None) == "Vicino"


def test_emergency_and_vigilantism_words_are_whole_words_whatever_the_case_and_accents():
    rules = VicinatoSettings()
    assert is_emergency("STANNO ENTRANDO dal retro!", rules)
    assert is_emergency("Aggressione in corso!", rules)
    assert not is_emergency("la rapinata di ieri è stata ritrovata", rules)  # "rapina" inside a word is not it
    assert is_emergency("subito", rules, extra=("subito",))
    assert suggests_vigilantism("Stasera facciamo una RONDA", rules)
    assert suggests_vigilantism("se torna lo prendiamo noi", rules)
    assert not suggests_vigilantism("ho visto un'auto sospetta", rules)


def test_a_report_goes_from_the_coordinator_to_the_stand_in_then_to_the_police():
    rules = VicinatoSettings(coordinator_minutes=30, stand_in_minutes=20)
    assert escalation("coordinator", rules) == ("stand_in", timedelta(minutes=20))
    assert escalation("stand_in", rules) == ("referent", None)


def test_the_median_time_to_forward_in_minutes():
    start = datetime(2026, 12, 1, 10, tzinfo=UTC)
    pairs = [(start, start + timedelta(minutes=m)) for m in (10, 30, 50, 70)]
    assert median_minutes(pairs) == 40.0
    assert median_minutes([]) is None


def test_zones_are_tenant_settings_validated_with_the_rest():
    tenant = settings.tenant_settings({"vicinato": {"enabled": True, "zones": [
        {"id": "nord", "name": "Nord", "streets": ["Via Roma"], "police_referent": "sub-1"}]}})
    assert tenant.vicinato.zone("nord").streets == ("Via Roma",)
    with pytest.raises(ValueError):
        settings.tenant_settings({"vicinato": {"zones": [{"id": "Nord con spazi", "name": "N"}]}})
    with pytest.raises(ValueError):
        settings.tenant_settings({"vicinato": {"coordinator_minutes": 0}})
