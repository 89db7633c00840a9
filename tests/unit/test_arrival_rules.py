"""Who is told of a new report, what counts as unseen and as urgent, and the settings that say so (issue 14)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain.keywords import mentions_any
from chalicelib.domain.reports import is_unseen
from chalicelib.domain.settings import channel_settings, tenant_settings
from local.seed import REPORTS


def test_a_report_is_told_to_its_kinds_offices_and_its_categorys_team():
    reports = tenant_settings({"reports": REPORTS}).reports
    assert reports.notice_addresses("report", "illuminazione") == ("ufficio.tecnico@comune.esempio.it",
                                                                    "elettricisti@comune.esempio.it")
    assert reports.notice_addresses("report", "altro") == ("ufficio.tecnico@comune.esempio.it",)  # no team
    teams = [{**t, "email": None} if t["id"] == "giardinieri" else t for t in REPORTS["teams"]]
    no_email = tenant_settings({"reports": {**REPORTS, "teams": teams}}).reports
    assert no_email.notice_addresses("report", "verde") == ("ufficio.tecnico@comune.esempio.it",)  # team without email
    assert reports.notice_addresses("report", None) == ("ufficio.tecnico@comune.esempio.it",)
    assert reports.notice_addresses("safety", "illuminazione") == ("polizia.municipale@comune.esempio.it",)
    assert tenant_settings({}).reports.notice_addresses("report", None) == ()


@pytest.mark.parametrize("notify", [{"report": ["not an address"]}, {"office": ["a@b.it"]},
                                    {"report": [f"u{i}@b.it" for i in range(11)]}])
def test_notice_addresses_are_checked_when_written(notify):
    with pytest.raises(ValueError, match="notify"):
        tenant_settings({"reports": {**REPORTS, "notify": notify}})


def test_unseen_means_new_and_not_yet_opened():
    assert is_unseen("new", None)
    assert not is_unseen("new", datetime(2026, 12, 6, tzinfo=UTC))
    assert not is_unseen("triaged", None) and not is_unseen("duplicate", None)


def test_urgent_words_are_whole_words_or_phrases_case_and_accents_aside():
    words = channel_settings({}).urgent_keywords
    assert mentions_any("Rissa IN CORSO davanti al bar", words)
    assert mentions_any("venite SUBITO!", words)
    assert not mentions_any("Un'auto parcheggiata da giorni", words)
    assert not mentions_any("", words) and not mentions_any("urgente", ())


@pytest.mark.parametrize("phone", ["333 1234567", "+39 333", "+0393331234567", "+3933312345678901"])
def test_the_on_call_phone_is_an_e164_number(phone):
    with pytest.raises(ValueError, match="on_call_phone"):
        channel_settings({"on_call_phone": phone})
    assert channel_settings({"on_call_phone": "+393331234567"}).on_call_phone == "+393331234567"
