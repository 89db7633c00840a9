"""The rules of every exported cell and file (domain/spreadsheets.py), and openpyxl kept out of `import app`."""
from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from chalicelib.domain.spreadsheets import MAX_CELL, MAX_ROWS, TooLarge, cell, content_disposition, rows_of

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("hostile", ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1",
                                     "=cmd|' /C calc'!A0"])
def test_a_cell_a_spreadsheet_would_run_starts_with_an_apostrophe(hostile):
    assert cell(hostile) == "'" + hostile


@pytest.mark.parametrize("plain", ["Buca in via Roma", "1+1", "a=b", " =1", ""])
def test_other_text_is_kept_as_it_is(plain):
    assert cell(plain) == plain


def test_values_become_text_without_what_xml_forbids():
    assert cell(None) == "" and cell(True) == "sì" and cell(3) == "3"
    assert cell(datetime(2026, 12, 6, 9, 30, tzinfo=UTC)) == "2026-12-06T09:30:00+00:00"
    assert cell(["Colle", "Piano"]) == "Colle, Piano"
    assert cell("a\x00b\x1fc\x0bd") == "abcd"  # dropped from CSV too, so both files hold the same rows
    assert cell("\x00=1") == "'=1"  # what is left is checked
    assert len(cell("x" * (MAX_CELL + 10))) == MAX_CELL


def test_an_export_past_its_rows_is_refused_not_cut():
    assert len(rows_of(["A"], [[1]] * MAX_ROWS)) == MAX_ROWS + 1
    with pytest.raises(TooLarge):
        rows_of(["A"], [[1]] * (MAX_ROWS + 1))


def test_the_file_name_is_italian_with_an_ascii_fallback():
    header = content_disposition("iscritti Sicurezza e Comunità", date(2026, 12, 6), "csv")
    assert header == ("attachment; filename=\"iscritti-sicurezza-e-comunita-2026-12-06.csv\"; "
                      "filename*=UTF-8''iscritti-sicurezza-e-comunit%C3%A0-2026-12-06.csv")


def test_import_app_does_not_load_openpyxl():
    """openpyxl is imported inside the export that writes an XLSX: cold starts do not pay for it."""
    probe = "import sys, app; print('openpyxl' in sys.modules)"
    answer = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == "False"
