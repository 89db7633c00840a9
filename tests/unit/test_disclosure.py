"""What of a report may leave the comune: the street without its number, a generalised position, masked contacts."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.disclosure import MONTHS, STREET_TYPES, generalised, mask_contacts, street_only


@pytest.mark.parametrize("typed, shown", [
    ("Via Garibaldi 187/B, interno 4 scala C, citofono Rossi 347 555 0199", "Via Garibaldi"),
    ("via Roma 3", "via Roma"),
    ("Via Roma, 3, 50100 Firenze FI, Italia", "Via Roma"),  # as WhatsApp's place picker writes it
    ("Via Roma n. 3", "Via Roma"),
    ("Via Roma n°3", "Via Roma"),
    ("Via Roma civ.3", "Via Roma"),
    ("Via Roma snc", "Via Roma"),
    ("Piazza della Repubblica 1 int. 2", "Piazza della Repubblica"),
    ("Via 4 Novembre 12", "Via 4 Novembre"),  # a date is part of the name
    ("Via XX Settembre 5", "Via XX Settembre"),
    ("Viale Vittorio Emanuele II 40", "Viale Vittorio Emanuele II"),
    ("Loc. Colle, podere Rossi", "Loc. Colle"),
    ("Via Roma davanti a casa Bianchi", "Via Roma"),
    ("Via Roma presso fam. Verdi", "Via Roma"),
    ("Via Roma mario.rossi@example.org", "Via Roma"),
    ("Via Roma 3475550199", "Via Roma"),
    ("VIA DEI MILLE 8", "VIA DEI MILLE"),
    ("Via\u0001 Roma\u000b 3", "Via Roma"),
    ("Via Roma - Pieve", "Via Roma"),
    ("Via Lunga Lunga Lunga Lunga Lunga Lunga Lunga", "Via Lunga Lunga Lunga Lunga Lunga"),
])
def test_the_street_without_what_follows_it(typed, shown):
    assert street_only(typed) == shown


@pytest.mark.parametrize("typed", [
    None, "", "citofono Rossi 347 555 0199", "Parco", "davanti al municipio", "Mario Rossi, via Roma 3", "Via",
    "Via 3", "347 555 0199", "c/o Rossi, Via Roma 3",
])
def test_what_is_not_a_street_is_not_shown(typed):
    assert street_only(typed) is None


@given(st.sampled_from(sorted(STREET_TYPES)), st.text(max_size=200))
@settings(max_examples=500, derandomize=True, database=None)
def test_a_street_never_holds_a_number_an_at_or_a_control_character(kind, rest):
    shown = street_only(f"{kind} {rest}")
    if shown is None:
        return
    words = shown.split()
    assert "@" not in shown and "/" not in shown[len(kind):] and not any(ch < " " for ch in shown)
    for word, following in zip(words[1:], words[2:] + [""], strict=True):
        assert not any(c.isdigit() for c in word) or (word.isdigit() and following.lower() in MONTHS), shown


def test_a_position_is_generalised_to_about_a_hundred_metres():
    assert generalised(43.74321, 10.94687) == (43.743, 10.947)
    assert generalised(-0.00049, 179.99951) == (-0.0, 180.0)


def test_contacts_in_a_note_are_masked():
    assert mask_contacts("Chiamare il 0571 123456 o uff@comune.it") == "Chiamare il [telefono] o [email]"
    assert mask_contacts(None) == ""
