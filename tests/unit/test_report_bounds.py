"""What one report holds (domain/reports.py): one DynamoDB item of 400 KB, filled first by the citizen's draft, then
by staff's notes, then by the steps that must always fit."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from chalicelib.domain.reports import (
    CITIZEN_ROOM,
    MAX_EVENT_TEXT,
    MAX_TEXT,
    STAFF_ROOM,
    SYSTEM_ROOM,
    Event,
    Report,
    ReportFull,
    check_room,
    citizen_addition,
    has_room_for_citizen,
    joined,
    size_of,
)

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)
EMPTY = Report(tenant_id="t", report_id="2026-0000001", number="2026/1", kind="report", status="new",
               created_at=NOW, updated_at=NOW, public_token="x")


def with_notes(report: Report, count: int, note: str) -> Report:
    return replace(report, events=report.events + tuple(Event(at=NOW, actor="citizen", action="text", note=note)
                                                        for _ in range(count)))


def test_the_shares_grow_from_citizen_to_staff_to_system_and_stay_under_dynamodbs_limit():
    assert CITIZEN_ROOM.bytes < STAFF_ROOM.bytes < SYSTEM_ROOM.bytes <= 400 * 1024 - 50_000
    assert CITIZEN_ROOM.events < STAFF_ROOM.events < SYSTEM_ROOM.events


@pytest.mark.parametrize("character,escaped", [("a", 1), ("è", 6), ("€", 6), ("\U0001f573", 12)])
def test_size_counts_each_character_at_its_json_escape(character, escaped):
    """The history is stored as JSON with characters past ASCII escaped: an emoji costs 12 bytes, not 4."""
    assert size_of(with_notes(EMPTY, 1, character * 1000)) - size_of(with_notes(EMPTY, 1, "")) == escaped * 1000


def test_a_write_past_its_share_is_refused_and_one_that_does_not_grow_is_not():
    full = with_notes(EMPTY, 1, "x")
    while size_of(full) < STAFF_ROOM.bytes - 5000:
        full = with_notes(full, 1, "x" * 4000)
    fuller = with_notes(full, 2, "x" * 4000)
    with pytest.raises(ReportFull, match="Report 2026/1 is full"):
        check_room(full, fuller, STAFF_ROOM)
    check_room(full, fuller, SYSTEM_ROOM)  # the system's share is larger
    check_room(fuller, replace(fuller, contact={}), STAFF_ROOM)  # no bigger than before: always fits
    with pytest.raises(ReportFull):
        check_room(None, fuller, STAFF_ROOM)  # a new report past the share


def test_events_are_bounded_too():
    many = with_notes(EMPTY, STAFF_ROOM.events, "")
    check_room(EMPTY, many, STAFF_ROOM)
    with pytest.raises(ReportFull):
        check_room(many, with_notes(many, 1, ""), STAFF_ROOM)


def test_a_draft_has_room_for_a_message_while_its_words_fit():
    assert has_room_for_citizen(EMPTY, "Buca in via Roma")
    assert not has_room_for_citizen(with_notes(EMPTY, CITIZEN_ROOM.events, ""), "ok")
    near = EMPTY
    while size_of(near) + citizen_addition("x" * 4000) <= CITIZEN_ROOM.bytes:
        near = with_notes(near, 1, "x" * 4000)
    assert not has_room_for_citizen(near, "x" * 4000) and has_room_for_citizen(near, "ok")


def test_one_messages_addition_counts_its_words_once_in_the_event_once_in_the_text():
    assert citizen_addition("\U0001f573" * 10_000) == 2 * (12 * MAX_EVENT_TEXT + 2) + 1_000


def test_the_reports_text_is_joined_up_to_its_bound():
    assert joined("", " Buca ") == "Buca"
    assert joined("Buca", "in via Roma") == "Buca\nin via Roma"
    assert len(joined("x" * 3990, "y" * 100)) == MAX_TEXT
