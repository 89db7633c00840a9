"""The notice's rules (issue 13): the one-line title outside the window, the button's payload and what a tap may ask."""
from __future__ import annotations

import pytest

from chalicelib.domain.broadcasts import NOTICE_TITLE_MAX, is_notice_tap, notice_id, notice_payload, notice_title
from chalicelib.domain.whatsapp import parameter_problem


@pytest.mark.parametrize("text, title", [
    ("Acqua interrotta domani", "Acqua interrotta domani"),
    ("\n\n  ALLERTA\tMETEO     arancione  \nsecondo rigo", "ALLERTA METEO arancione"),
    ("Lavori sulla rete idrica: acqua interrotta in via Roma e nelle vie vicine fino alle 18",
     "Lavori sulla rete idrica: acqua interrotta in via Roma e…"),
    ("x" * 100, "x" * (NOTICE_TITLE_MAX - 1) + "…"),
])
def test_the_title_is_the_first_line_on_one_line_shortened_at_a_word(text, title):
    assert notice_title(text) == title
    assert len(notice_title(text)) <= NOTICE_TITLE_MAX and parameter_problem(notice_title(text)) is None


def test_a_payload_names_one_broadcast_and_nothing_else_passes():
    broadcast_id = "20261201T090000123456-a1b2c3"
    assert notice_id(notice_payload(broadcast_id)) == broadcast_id
    assert is_notice_tap(notice_payload(broadcast_id)) and not is_notice_tap("sub:confirm") and not is_notice_tap(None)
    for forged in ("notice:../../x", "notice:" + "9" * 5000, "notice:20261201T090000123456-A1B2C3", "notice:",
                   "notice:20261201T090000123456-a1b2c3\n"):
        assert notice_id(forged) is None


@pytest.mark.parametrize("text, refused", [
    ("Una riga", False), ("Quattro    spazi", False), ("Cinque     spazi", True), ("a\nb", True), ("a\tb", True),
    ("a\r\nb", True), ("   ", True), ("", True),
])
def test_what_whatsapp_refuses_in_a_template_parameter(text, refused):
    assert (parameter_problem(text) is not None) == refused
