"""Whole numbers are ASCII digits: what str.isdigit and int() also take is no number here."""
from __future__ import annotations

import pytest

from chalicelib.domain.numbers import digits_of, whole_number
from chalicelib.domain.reports import parse_number


@pytest.mark.parametrize("text,number", [("0", 0), ("12", 12), ("007", 7), ("999999999", 999_999_999)])
def test_ascii_digits_are_a_number(text, number):
    assert whole_number(text) == number


@pytest.mark.parametrize("text", ["\u00b9", "\u00b2", "\u0663", "\uff15", " 5", "5 ", "+5", "-5", "1_0", "5.0", "",
                                  None, "1" * 10, "1" * 5000])
def test_anything_else_is_none(text):
    assert whole_number(text) is None


def test_digits_of_keeps_ascii_digits_only():
    assert digits_of("+39 333-12\u00b9\u0663") == "3933312"


def test_a_report_number_is_ascii_digits():
    assert parse_number("2026/42", 2026) == "2026-0000042"
    assert parse_number("\u0664\u0662", 2026) is None
