"""Audience counts: each active subscriber counted once, in the one cell of their exact choice of hamlets and topics.

A subscriber who chose hamlets {a, b} and every topic sits in cell "h=a,b|t=" and nowhere else. An audience of
several hamlets and topics is the sum of the cells it includes (Audience.includes on the cell's own choice), so a
subscriber in two of the chosen hamlets is counted once, exactly: no inclusion-exclusion, no estimate. Cells are
the combinations subscribers actually chose; on WhatsApp a citizen picks one hamlet (or all) and one topic (or all),
so a comune has about (hamlets + 1) x (topics + 1) of them; staff imports and the web form allow a few more.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from chalicelib.domain.broadcasts import Audience

MAX_CELL_KEY = 1024  # DynamoDB's limit for a sort key: 20 hamlets and 20 topics of 60 characters still fit


def cell_of(active: bool, hamlets: Iterable[str], topics: Iterable[str]) -> str | None:
    """The cell a subscriber is counted in, or None when they are not counted (not active)."""
    if not active:
        return None
    return "h=" + ",".join(sorted(set(hamlets))) + "|t=" + ",".join(sorted(set(topics)))


def choice_of(cell: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The hamlets and topics a cell stands for (empty: every one)."""
    hamlets, topics = cell.split("|t=", 1)
    hamlets = hamlets.removeprefix("h=")
    return tuple(h for h in hamlets.split(",") if h), tuple(t for t in topics.split(",") if t)


def moves(old: str | None, new: str | None) -> dict[str, int]:
    """How a change of one subscriber moves the counts: -1 where they were counted, +1 where they are now."""
    if old == new:
        return {}
    return {cell: step for cell, step in ((old, -1), (new, 1)) if cell is not None}


def count(audience: Audience, cells: Mapping[str, int]) -> int:
    """The subscribers an audience reaches, from the counts per cell: each subscriber is in one cell only."""
    return sum(n for cell, n in cells.items() if n > 0 and audience.includes(*choice_of(cell)))


def tally(choices: Iterable[tuple[bool, Iterable[str], Iterable[str]]]) -> dict[str, int]:
    """Counts per cell, recounted from the subscribers themselves (the nightly reconciliation)."""
    counted: dict[str, int] = {}
    for active, hamlets, topics in choices:
        cell = cell_of(active, hamlets, topics)
        if cell is not None:
            counted[cell] = counted.get(cell, 0) + 1
    return counted


def drift(stored: Mapping[str, int], counted: Mapping[str, int]) -> dict[str, int]:
    """Per cell, what the recount says minus what was stored (only cells that differ)."""
    return {cell: counted.get(cell, 0) - stored.get(cell, 0) for cell in set(stored) | set(counted)
            if counted.get(cell, 0) != stored.get(cell, 0)}
