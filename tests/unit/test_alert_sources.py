"""The alert sources' parsers on real published samples (tests/fixtures/alerts/SOURCES.md): the DPC bulletin
(index and TopoJSON), CAP 1.2 documents and an Atom index of them, hostile XML, and where an alert falls."""
from __future__ import annotations

import csv
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chalicelib.domain import alerts
from chalicelib.domain.alerts import AlertRefused, Place
from chalicelib.services.alerts.zones import dpc_names

FIXTURES = Path(__file__).parent.parent / "fixtures" / "alerts"
DWD_ZIP = FIXTURES / "cap" / "Z_CAP_C_EDZW_LATEST_PVW_STATUS_PREMIUMDWD_COMMUNEUNION_MUL.zip"


def bulletin(stamp: str) -> list[alerts.Alert]:
    return alerts.dpc_alerts((FIXTURES / "dpc" / f"{stamp}.json").read_bytes(), dpc_names())


def by(found, which: str, hazard: str) -> alerts.Alert:
    return next(a for a in found if a.identifier.endswith(f"-{which}-{hazard}"))


def test_the_red_bulletin_of_16_may_2023_names_its_red_zones_by_code():
    found = bulletin("20230516_1522")
    hydraulic = alerts.dpc_zone_levels(by(found, "today", "idraulico"))
    red = sorted(code for code, level in hydraulic.items() if level == "red")
    # the zone-level CSV of the same bulletin (opendatasicilia) lists these seven at red for hydraulic risk
    assert red == ["Emil-A1", "Emil-A2", "Emil-B1", "Emil-B2", "Emil-C2", "Emil-D1", "Emil-F1"]
    assert hydraulic["Marc-2"] == "orange" and hydraulic["Emil-F2"] == "orange"
    assert by(found, "today", "idraulico").level == "red"
    hydrogeological = alerts.dpc_zone_levels(by(found, "today", "idrogeologico"))
    assert hydrogeological["Emil-A1"] == "red" and hydrogeological["Tosc-B"] == "yellow"
    # names with commas inside stay one zone (Sicilia's "Nord-Orientale, versante tirrenico e isole Eolie")
    assert "Sici-B" in alerts.dpc_zone_levels(by(found, "today", "temporali"))
    assert all("," not in code for a in found for code in alerts.dpc_zone_levels(a))
    today = by(found, "today", "idraulico")
    assert today.series == "dpc:2023-05-16:idraulico" and today.expires.startswith("2023-05-17T00:00:00+02:00")
    assert by(found, "tomorrow", "idraulico").series == "dpc:2023-05-17:idraulico"


# the same bulletins as zone-level CSVs (opendatasicilia, from DPC's shapefiles): what the index must agree with
CSV_LEVELS = {
    ("20230516_1522", "today"): "20230516-bollettino-oggi-zone.csv",
    ("20230516_1522", "tomorrow"): "20230516-bollettino-domani-zone.csv",
    ("20231022_1449", "today"): "20231022-bollettino-oggi-zone.csv",
    ("20231022_1449", "tomorrow"): "20231022-bollettino-domani-zone.csv",
    ("20231025_1556", "today"): "20231025-bollettino-oggi-zone.csv",
}


@pytest.mark.parametrize("stamp,which", CSV_LEVELS)
def test_every_zone_level_of_the_index_matches_the_zone_csv(stamp, which):
    expected = {}
    with (FIXTURES / "dpc" / "zones-csv" / CSV_LEVELS[stamp, which]).open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            for hazard in ("idraulico", "idrogeologico", "temporali"):
                level = alerts.dpc_level(row[f"avviso_{hazard}"])
                if level != "green":
                    expected[hazard, row["zona_codice"]] = level
    found = {(a.hazard, code): level for a in bulletin(stamp) if f"-{which}-" in a.identifier
             for code, level in alerts.dpc_zone_levels(a).items()}
    assert found == expected


def test_the_no_alert_bulletin_has_nothing_on_alert():
    for stamp in ("20200101_1530",):
        assert {a.level for a in bulletin(stamp)} == {"green"}
    quiet_today = [a for a in bulletin("20231022_1449") if "-today-" in a.identifier]
    assert {a.level for a in quiet_today} == {"green"}


def test_the_topojson_of_a_day_agrees_with_its_index():
    index = bulletin("20231025_1556")
    day = alerts.dpc_day_from_topojson((FIXTURES / "dpc" / "20231025_1556_today.json").read_bytes(), "2023-10-25")
    assert day.levels["idraulico"]["Pianura piacentino-parmense"] == "orange"
    assert len(day.levels["temporali"]) == 25 and len(day.levels["idraulico"]) == 13
    from_topo = alerts.dpc_alerts((FIXTURES / "dpc" / "20231025_1556.json").read_bytes(), dpc_names(),
                                  days={"today": day})
    for hazard in ("idraulico", "temporali"):
        assert alerts.dpc_zone_levels(by(from_topo, "today", hazard)) == \
            alerts.dpc_zone_levels(by(index, "today", hazard))


def test_a_cap_update_is_read_with_its_reference_level_and_areas():
    alert = alerts.cap_alert(next((FIXTURES / "cap").glob("2.49.0.0.276.0.DWD.PVW.1687511640000*.xml")).read_bytes())
    assert alert.msg_type == "Update" and alert.sender == "opendata@dwd.de"
    assert alert.references == ("2.49.0.0.276.0.DWD.PVW.1687503060000.fc4f7fd9-80e7-4d71-969a-254be3e27e83.MUL",)
    assert alert.language == "en"  # no Italian block among its eight: English is picked
    assert alert.level == "yellow" and alert.hazard == "pioggia"
    assert any(a.polygons for a in alert.areas) and any(g.startswith("WARNCELLID=") for a in alert.areas
                                                         for g in a.geocodes)


def test_meteoalarm_awareness_parameters_give_level_and_hazard():
    alert = alerts.cap_alert((FIXTURES / "cap" / "METfare-20210921T070421.cap.xml").read_bytes())
    assert (alert.msg_type, alert.level, alert.hazard) == ("Alert", "yellow", "vento")
    assert {"emma_id=NO808", "emma_id=NO809"} <= {g for a in alert.areas for g in a.geocodes}


def test_the_italian_info_block_is_preferred():
    body = (FIXTURES / "cap" / "METfare-20210921T070421.cap.xml").read_bytes()
    italian = body.replace(b"<language>no</language>", b"<language>it-IT</language>")
    assert alerts.cap_alert(italian).language == "it-IT"


def test_every_member_of_the_dwd_snapshot_parses():
    with zipfile.ZipFile(DWD_ZIP) as archive:
        found = [alerts.cap_alert(archive.read(name)) for name in archive.namelist()]
    assert sorted(a.msg_type for a in found) == ["Alert", "Update", "Update"]
    assert all(a.areas for a in found)


def test_an_atom_index_lists_the_documents_to_fetch():
    entries, embedded = alerts.cap_feed((FIXTURES / "cap" / "nws_atom_feed_example.xml").read_bytes())
    assert len(entries) == 163 and not embedded
    assert all(e.link.startswith("http") for e in entries)


HOSTILE = {
    "external entity": b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                       b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&x;</identifier></alert>',
    "billion laughs": b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                      + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                                 for i in range(1, 10))
                      + b']><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol9;</identifier></alert>',
    "10 MB": b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><description>' + b"x" * 10_000_000
             + b"</description></alert>",
    "not XML": b"{\"alert\": 1}",
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_document_is_refused(name):
    with pytest.raises(AlertRefused):
        alerts.cap_alert(HOSTILE[name])
    with pytest.raises(AlertRefused):
        alerts.cap_feed(HOSTILE[name])


def test_an_alert_selects_hamlets_by_zone_geocode_or_outline():
    red_day = by(bulletin("20230516_1522"), "today", "idraulico")
    places = [Place("bassa", codes=frozenset({"Emil-F1"})), Place("collina", codes=frozenset({"Emil-E2"})),
              Place("altrove", codes=frozenset({"Tosc-A4"})), Place("confine", codes=frozenset({"Emil-E2", "Emil-D1"}))]
    assert alerts.hamlet_levels(red_day, places) == {"bassa": "red", "collina": "orange", "confine": "red"}
    norway = alerts.cap_alert((FIXTURES / "cap" / "METfare-20210921T070421.cap.xml").read_bytes())
    ring = next(a.polygons[0] for a in norway.areas if a.polygons)
    lat, lon = ring[0]
    square = {"type": "Polygon", "coordinates": [[[lon - .01, lat - .01], [lon + .01, lat - .01], [lon + .01, lat + .01],
                                                   [lon - .01, lat + .01], [lon - .01, lat - .01]]]}
    far = {"type": "Polygon", "coordinates": [[[10.9, 43.7], [10.91, 43.7], [10.91, 43.71], [10.9, 43.7]]]}
    found = alerts.hamlet_levels(norway, [Place("costa", geometry=square), Place("toscana", geometry=far),
                                          Place("codice", geocodes=frozenset({"emma_id=NO809"}))])
    assert found == {"costa": "yellow", "codice": "yellow"}


def test_what_changed_between_two_versions():
    assert alerts.compare({}, {"a": "red", "b": "orange"}).raised == {"orange": ("b",), "red": ("a",)}
    assert alerts.compare({"a": "red"}, {"a": "red"}).empty
    change = alerts.compare({"a": "red", "b": "yellow"}, {"a": "orange"})
    assert change.raised == {"orange": ("a",)} and change.ended == ("b",)
    assert alerts.compare({"a": "red"}, {"a": "red"}, text_changed=True).raised == {"red": ("a",)}


# GitHub's REST API answers the DPC feed reads to find the newest bulletin, shaped as GitHub documents them
# (docs.github.com/rest/commits/commits: "List commits", "Get a commit"); the commit ids are the DPC's own
# (tests/fixtures/alerts/SOURCES.md 1.1)
REPO = "https://api.github.com/repos/pcm-dpc/DPC-Bollettini-Criticita-Idrogeologica-Idraulica"
RAW = "https://github.com/pcm-dpc/DPC-Bollettini-Criticita-Idrogeologica-Idraulica/raw"


def listed_commit(sha: str, date: str) -> dict:
    person = {"name": "pcm-dpc", "email": "noreply@github.com", "date": date}
    return {"sha": sha, "node_id": "C_kwDO", "url": f"{REPO}/commits/{sha}", "html_url": "", "parents": [],
            "commit": {"author": person, "committer": person, "message": "Bollettino", "comment_count": 0,
                       "tree": {"sha": "0" * 40, "url": ""}}}


def commit_with(sha: str, files: list[tuple[str, str]]) -> bytes:
    return json.dumps({**listed_commit(sha, "2023-10-25T14:20:19Z"), "stats": {}, "files": [
        {"sha": "1" * 40, "filename": name, "status": status, "additions": 1, "deletions": 0, "changes": 1,
         "blob_url": "", "raw_url": f"{RAW}/{sha}/{name}", "contents_url": ""} for name, status in files]}).encode()


def test_the_list_of_commits_gives_their_ids_newest_first():
    shas = ["304b50b38a3038964beec9fc443a0c2900d7b8b7", "5a46ac4ae1161077611519c52c40bc53c858e7b2"]
    body = json.dumps([listed_commit(shas[0], "2023-10-25T14:20:19Z"), listed_commit(shas[1], "2023-10-22T13:00:00Z")])
    assert alerts.github_commits(body.encode()) == shas
    assert alerts.github_commits(b"[]") == []
    for bad in (b'{"message": "Not Found"}', b'[{"sha": "../../etc"}]', b"[1]", b"<html>", b"[" + b" " * 2_000_001 + b"]"):
        with pytest.raises(AlertRefused):
            alerts.github_commits(bad)


def test_a_commit_names_the_bulletins_it_adds_and_nothing_else():
    sha = "304b50b38a3038964beec9fc443a0c2900d7b8b7"
    body = commit_with(sha, [("files/topojson/20231025_1556_today.json", "added"),
                             ("files/topojson/20231025_1556_style.json", "added"),
                             ("files/all/latest_all.zip", "modified"), ("files/pdf/20231025_1556.zip", "added"),
                             ("files/20231025_1556.json", "added"), ("files/20231022_1449.json", "removed"),
                             ("files/20231399_9999.json", "added"), ("README.md", "modified")])
    assert alerts.github_bulletin_stamps(body) == ["20231025_1556"]
    assert alerts.github_bulletin_stamps(commit_with(sha, [("files/all/latest_all.zip", "modified")])) == []
    with pytest.raises(AlertRefused):
        alerts.github_bulletin_stamps(b'{"files": "many"}')


def test_a_reissue_the_same_day_is_the_newest_and_an_older_stamp_never_wins():
    assert alerts.newest_stamp("20231025_1556", "20231025_1830") == "20231025_1830"
    assert alerts.newest_stamp("20231025_1830", "20231025_1556") == "20231025_1830"
    assert alerts.newest_stamp("20231231_2359", "20240101_0001") == "20240101_0001"
    assert alerts.newest_stamp("", None) is None and alerts.newest_stamp("latest") is None


def test_a_rate_limited_answer_says_when_to_try_again():
    now = datetime(2023, 10, 25, 15, 0, tzinfo=UTC)
    reset = int((now + timedelta(minutes=37)).timestamp())
    primary = {"x-ratelimit-limit": "60", "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}
    assert alerts.retry_after(primary, now) == now + timedelta(minutes=37)
    assert alerts.retry_after({"retry-after": "120", **primary}, now) == now + timedelta(minutes=2)  # secondary
    assert alerts.retry_after({**primary, "x-ratelimit-remaining": "12"}, now) is None  # a 403 for another reason
    assert alerts.retry_after({}, now) is None
