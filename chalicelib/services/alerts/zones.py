"""The DPC alert zones by name (the bulletin names zones; tenants and the map use codes)."""
from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from chalicelib.domain.alerts import zone_codes_by_name

DATA = Path(__file__).with_name("data")


@cache
def dpc_names() -> dict[str, str]:
    """Normalised zone name -> code, from every zone list kept (older names first, newer ones win)."""
    rows: list[tuple[str, str]] = []
    for path in sorted(DATA.glob("zone_at-*.csv"), key=lambda p: p.name.rsplit("_", 1)[-1]):
        with path.open(encoding="utf-8", newline="") as handle:
            rows += [(r["zona_codice"], r["zona_nome"]) for r in csv.DictReader(handle)]
    return zone_codes_by_name(rows)


@cache
def dpc_zones() -> dict[str, str]:
    """Code -> its latest name (for the console's lists)."""
    table: dict[str, str] = {}
    for path in sorted(DATA.glob("zone_at-*.csv"), key=lambda p: p.name.rsplit("_", 1)[-1]):
        with path.open(encoding="utf-8", newline="") as handle:
            table.update({r["zona_codice"]: r["zona_nome"] for r in csv.DictReader(handle)})
    return table
