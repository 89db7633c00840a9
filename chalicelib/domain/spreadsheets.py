"""The rules every exported table follows, whatever its format (CSV or XLSX): how a cell is made safe, how big an
export may be, and what its file is called."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from urllib.parse import quote

# The export formats and their media types (the API's XLSX is also a binary type of the app: app.py)
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

# A spreadsheet reads a cell that begins with one of these as a formula (or as the start of one: Excel and
# LibreOffice take "+", "-" and "@" too, and tab or CR before them): OWASP's CSV injection list.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 forbids (an XLSX is XML): dropped from both formats, so the two files hold the same rows.
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MAX_CELL = 32_767  # Excel's longest cell
MAX_ROWS = 5_000  # rows of one export; past it the export is refused (422) and staff narrow the filters
MAX_BYTES = 4_000_000  # one file: Lambda answers at most 6 MB, and a binary answer travels in base64 (4/3 bigger)


class TooLarge(ValueError):
    """The export would be bigger than one answer may be; narrow the filters."""


def cell(value: object) -> str:
    """A value as an exported cell: text that no spreadsheet runs as a formula (a leading apostrophe, which
    spreadsheets read as "this is text"), without characters XML forbids, at most MAX_CELL long."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "sì" if value else "no"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        value = ", ".join(str(v) for v in value)
    text = FORBIDDEN.sub("", str(value))
    if text.startswith(FORMULA_STARTS):
        text = "'" + text
    return text[:MAX_CELL]


def rows_of(header: list[str], rows: list[list[object]]) -> list[list[str]]:
    """The header and every row as safe cells; TooLarge past MAX_ROWS."""
    if len(rows) > MAX_ROWS:
        raise TooLarge(f"more than {MAX_ROWS} rows")
    return [[cell(h) for h in header]] + [[cell(v) for v in row] for row in rows]


def file_name(title: str, day: date, extension: str) -> tuple[str, str]:
    """(an ASCII file name, the same in UTF-8) for Content-Disposition: "iscritti-notizie-dal-comune-2026-12-06"."""
    words = re.sub(r"[^\w]+", "-", title.lower(), flags=re.UNICODE).strip("-_") or "export"
    full = f"{words[:80]}-{day.isoformat()}.{extension}"
    ascii_only = unicodedata.normalize("NFKD", full).encode("ascii", "ignore").decode()
    return ascii_only, full


def content_disposition(title: str, day: date, extension: str) -> str:
    """An attachment header with the plain name and its UTF-8 form (RFC 6266), so accents survive."""
    plain, full = file_name(title, day, extension)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(full)}"
