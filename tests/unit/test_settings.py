"""Tenant and channel settings: one typed list of knobs with defaults and bounds, checked when written,
read leniently so that a knob written around the checks never stops a comune's messages."""
from __future__ import annotations

from dataclasses import fields
from datetime import time
from typing import get_args, get_type_hints

import pytest
from pydantic.fields import FieldInfo

from chalicelib.domain import settings
from chalicelib.domain.settings import ChannelSettings, Limits, ReportSettings, Retention, TenantSettings
from chalicelib.domain.tenancy import Channel
from local.seed import CHANNELS

KNOB_MODELS = (ChannelSettings, TenantSettings, ReportSettings, Retention, Limits)


@pytest.mark.parametrize("model", KNOB_MODELS, ids=lambda m: m.__name__)
def test_every_knob_says_what_it_does(model):
    hints = get_type_hints(model, include_extras=True)
    undocumented = [f.name for f in fields(model)
                    if not any(isinstance(m, FieldInfo) and m.description for m in getattr(hints[f.name], "__metadata__", ()))]
    assert undocumented == []


def test_an_empty_channel_gets_the_documented_defaults():
    channel = Channel("1", "t", "safety", "Sicurezza", "+39 0571 000003", {})
    assert channel.rate_per_second == 80
    assert channel.settings.draft_minutes == 15
    assert channel.settings.photo_max_bytes == 5 * 1024 * 1024
    assert channel.settings.registered_only is True
    assert channel.settings.messaging_limit == 1000
    watched = channel.settings.watched_hours.window()
    assert (watched.start, watched.end) == (time(8), time(19))
    quiet = channel.settings.quiet_hours.window()
    assert (quiet.start, quiet.end) == (time(21), time(8))
    assert channel.template("notice") is None


@pytest.mark.parametrize("knob, value", [
    ("draft_minutes", "15"), ("draft_minutes", True), ("draft_minutes", 0), ("photo_max_bytes", 50 * 1024 * 1024),
    ("rate_per_second", 0), ("rate_per_second", 5000), ("messaging_limit", 1.5), ("registered_only", "yes"),
    ("quiet_hours", {"start": "25:00", "end": "08:00"}), ("quiet_hours", {"start": "21:00"}),
    ("watched_hours", {"start": "08:00", "end": "19:00", "timezone": "Mars/Olympus"}),
    ("templates", {"notice": {"name": "Avviso Comune"}}), ("templates", {"welcome": {"name": "benvenuto"}}),
    ("texts", {"welcome": "x" * 5000}), ("watched_hour", {"enabled": False}),
])
def test_a_bad_channel_knob_is_refused_naming_it(knob, value):
    with pytest.raises(ValueError, match=knob.split("_")[0]):
        Channel("1", "t", "reports", "Segnalazioni", "+39 0571 000002", {knob: value})


@pytest.mark.parametrize("raw, knob", [
    ({"hamlets": [{"id": "", "name": "Vuota", "latitude": 1, "longitude": 2}]}, "hamlets"),
    ({"reports": {"external_bodies": [{"id": "provincia", "name": "Provincia", "email": "nobody"}]}}, "email"),
    ({"reports": {"duplicate_days": "14"}}, "duplicate_days"),
    ({"open311_partners": [{"name": "partner", "key_sha256": "not-a-hash"}]}, "key_sha256"),
    ({"limits": {"broadcasts_per_day": 0}}, "broadcasts_per_day"),
    ({"language": "xx"}, "language"),
])
def test_a_bad_tenant_knob_is_refused_naming_it(raw, knob):
    with pytest.raises(ValueError, match=knob):
        settings.tenant_settings(raw)


def test_the_demo_channels_and_the_deploy_example_validate():
    import json
    from pathlib import Path

    example = json.loads((Path(__file__).resolve().parents[2] / "infra" / "examples" / "comune.json").read_text())
    assert settings.tenant_settings(example["settings"]).hamlets
    for channel in example["channels"]:
        Channel(tenant_id=example["tenant_id"], **channel)
    assert [c.template("report_update").name for c in CHANNELS if c.kind != "broadcast"] == [
        "aggiornamento_segnalazione"] * 2


def test_stored_settings_keep_only_what_was_set_and_read_back_the_same():
    chosen = settings.channel_settings({"rate_per_second": 200, "quiet_hours": {"enabled": False}})
    assert settings.stored(chosen) == {"rate_per_second": 200, "quiet_hours": {"enabled": False}}
    assert settings.channel_settings(settings.stored(chosen)) == chosen


def test_a_knob_written_around_the_checks_takes_its_default_and_the_rest_stay():
    read, errors = settings.lenient(ChannelSettings, {"draft_minutes": "tanti", "rate_per_second": 200, "colour": 1})
    assert read.draft_minutes == 15 and read.rate_per_second == 200
    assert len(errors) == 2 and any("draft_minutes" in e for e in errors) and any("colour" in e for e in errors)


def test_every_template_purpose_is_described():
    assert set(get_args(settings.Purpose)) == set(settings.TEMPLATE_PURPOSES)


# ---- what WhatsApp shows: list rows, buttons, templates (issue 13: validated when written, never cut at send) ---

PIEVE = {"id": "pieve", "name": "Pieve a Ripoli", "latitude": 43.7, "longitude": 10.9}


@pytest.mark.parametrize("raw", [
    {"topics": [{"id": "allerte", "name": "Allerte e protezione civile"}]},
    {"hamlets": [{**PIEVE, "name": "San Martino in Colle di Sopra"}]},
    {"reports": {"categories": [{"id": "strade", "name": "Strade, marciapiedi e piste ciclabili"}]}},
    {"topics": [{"id": "allerte", "name": "Allerte e protezione civile", "short_name": "Allerte e protezione civ."}]},
], ids=["topic", "hamlet", "category", "short-name-too-long"])
def test_a_name_shown_as_a_list_row_must_fit_whatsapps_24_characters(raw):
    with pytest.raises(ValueError, match="24"):
        settings.tenant_settings(raw)


def test_a_long_name_comes_with_a_short_one_for_whatsapps_lists():
    read = settings.tenant_settings({"topics": [{"id": "allerte", "name": "Allerte e protezione civile",
                                                 "short_name": "Allerte e prot. civile"}], "hamlets": [PIEVE]})
    assert read.topics[0].list_title == "Allerte e prot. civile"
    assert read.topics[0].name == "Allerte e protezione civile"
    assert read.hamlets[0].list_title == "Pieve a Ripoli"


NOTICE = {"name": "avviso_comune", "body": "Nuovo avviso del Comune:\n{{1}}\n\nTocca «Leggi l'avviso».",
          "footer": "Scrivi DISATTIVA per non ricevere più avvisi", "buttons": ["Leggi l'avviso"]}


@pytest.mark.parametrize("template, words", [
    ({**NOTICE, "buttons": ["Leggi l'avviso completo, ora"]}, "at most 25"),
    ({**NOTICE, "buttons": []}, "quick reply"),
    ({**NOTICE, "body": "Nuovo avviso: {{1}}, {{2}}."}, "takes 1 parameter"),
    ({**NOTICE, "body": "Nessun parametro."}, "takes 1 parameter"),
    ({**NOTICE, "body": "Avviso {{1}} " + "x" * 1000}, "1024"),
    ({**NOTICE, "body": "Avviso {{2}} qui."}, "without gaps"),
    ({**NOTICE, "footer": "f" * 61}, "at most 60"),
    ({**NOTICE, "buttons": ["Leggi", "Leggi"]}, "unique"),
], ids=["button-26", "no-quick-reply", "two-parameters", "no-parameter", "no-room-for-the-title", "skips-1",
        "footer-61", "buttons-repeat"])
def test_the_notice_template_a_channel_declares_fits_whatsapp_and_its_purpose(template, words):
    with pytest.raises(ValueError, match="templates") as refused:
        settings.channel_settings({"templates": {"notice": template}})
    assert words in str(refused.value)


def test_a_declared_template_keeps_its_texts_for_the_preview():
    read = settings.channel_settings({"templates": {"notice": NOTICE, "report_update": {
        "name": "aggiornamento_segnalazione", "body": "Segnalazione n. {{1}}: {{2}}. Dettagli: {{3}} grazie."}}})
    assert read.templates["notice"].buttons == ("Leggi l'avviso",)
    assert read.templates["notice"].body.startswith("Nuovo avviso")
    assert settings.channel_settings({"templates": {"notice": {"name": "avviso_comune"}}}).templates["notice"].body == ""


@pytest.mark.parametrize("key, value", [("subscribe.confirm_button", "Sì, confermo l'iscrizione"),
                                        ("preferences.all_hamlets", "Tutte le frazioni del comune")])
def test_a_channel_text_shown_as_a_button_or_row_must_fit(key, value):
    with pytest.raises(ValueError, match="texts"):
        settings.channel_settings({"texts": {key: value}})


def test_the_catalogue_texts_shown_as_buttons_rows_or_template_parameters_fit():
    from chalicelib import messages
    from chalicelib.domain.whatsapp import parameter_problem

    catalogue = messages.catalogue("it")
    too_long = {k: catalogue[k] for k, limit in settings.SHORT_TEXTS.items() if len(catalogue[k]) > limit}
    assert too_long == {}
    statuses = {k: v for k, v in catalogue.items() if k.startswith("status.")}
    assert statuses and {k: v for k, v in statuses.items() if parameter_problem(v)} == {}
