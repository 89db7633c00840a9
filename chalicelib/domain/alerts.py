"""Official civil-protection alerts (issue 19): the normalised Alert every source becomes, its levels, the parsers
of the sources (the DPC national bulletin, CAP 1.2 documents and their Atom/RSS feeds), where an alert falls in a
comune (zone codes, CAP geocodes, polygons against hamlet outlines) and what changed between two versions.

Everything here is pure: it reads bytes and returns values. Fetching, storing and sending are services/alerts.
XML is parsed with defusedxml only, after a size cap, so a hostile document (external entities, entity
expansion, a 10 MB body) is refused before it can cost anything."""
from __future__ import annotations

import hashlib
import html
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")
LEVELS = ("green", "yellow", "orange", "red")
LEVEL_NAMES = {"green": "verde", "yellow": "gialla", "orange": "arancione", "red": "rossa"}
MSG_TYPES = ("Alert", "Update", "Cancel")
# the hazards a comune sets rules for: the DPC bulletin's three, and the MeteoAlarm awareness types CAP feeds use
HAZARDS = {
    "idraulico": "rischio idraulico", "idrogeologico": "rischio idrogeologico", "temporali": "rischio temporali",
    "vento": "vento", "neve": "neve e ghiaccio", "nebbia": "nebbia", "caldo": "temperature elevate",
    "freddo": "temperature basse", "mareggiate": "mareggiate", "incendi": "incendi boschivi",
    "valanghe": "valanghe", "pioggia": "pioggia", "altro": "altri fenomeni",
}
MAX_DOCUMENT_BYTES = 1_000_000  # a CAP document or feed; Google asks feeds to stay under 900 KB
MAX_BULLETIN_BYTES = 3_000_000  # a DPC index (12 KB) or one day's TopoJSON (about 1 MB)
MAX_FEED_ENTRIES = 200
MAX_AREAS = 200
MAX_TEXT = 2000  # headline and description are cut here (they go into a WhatsApp text of at most 4,096)

CAP_NS = ("urn:oasis:names:tc:emergency:cap:1.2", "urn:oasis:names:tc:emergency:cap:1.1")
ATOM_NS = "http://www.w3.org/2005/Atom"


class AlertRefused(ValueError):
    """A document we will not read: too big, not well formed, hostile, or not what the source promises."""


@dataclass(frozen=True)
class Area:
    description: str = ""
    codes: tuple[str, ...] = ()  # DPC alert zones (Emil-F1) or any zone code a region uses
    geocodes: tuple[str, ...] = ()  # CAP geocodes as "valueName=value" (EMMA_ID=IT005, WARNCELLID=...)
    polygons: tuple[tuple[tuple[float, float], ...], ...] = ()  # rings of (lat, lon), CAP's order


@dataclass(frozen=True)
class Alert:
    """One alert version, whatever its source."""

    source: str  # dpc, cap
    identifier: str
    sender: str
    sent: str  # ISO 8601
    status: str  # Actual, Exercise, System, Test, Draft
    msg_type: str  # Alert, Update, Cancel
    hazard: str  # a key of HAZARDS
    level: str  # a key of LEVELS
    onset: str | None = None
    expires: str | None = None
    areas: tuple[Area, ...] = ()
    references: tuple[str, ...] = ()  # identifiers of earlier versions (CAP sender,identifier,sent triples)
    headline: str = ""
    description: str = ""
    language: str = "it"
    link: str = ""
    series: str = ""  # what versions share: a DPC day and hazard; a CAP alert's first identifier

    @property
    def rank(self) -> int:
        return LEVELS.index(self.level)

    @property
    def actual(self) -> bool:
        return self.status == "Actual"


def rank(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else 0


def worst(levels) -> str:
    return max(levels, key=rank, default="green")


def _clip(text: str | None, limit: int = MAX_TEXT) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def norm_name(name: str) -> str:
    """A zone name as compared: no accents, case, punctuation or repeated spaces ("Cittá" = "citta")."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain.lower()).split())


# ------------------------------------------------------------------------------------------------------------------
# DPC national bulletin (pcm-dpc/DPC-Bollettini-Criticita-Idrogeologica-Idraulica)

DPC_COLOURS = {"NESSUNA ALLERTA": "green", "ALLERTA GIALLA": "yellow", "ALLERTA ARANCIONE": "orange",
               "ALLERTA ROSSA": "red"}
DPC_HAZARD_WORDS = {"IDRAULICO": "idraulico", "IDROGEOLOGICO": "idrogeologico", "TEMPORALI": "temporali"}
DPC_PROPERTIES = {"Per rischio idraulico": "idraulico", "Per rischio idrogeologico": "idrogeologico",
                  "Per rischio temporali": "temporali"}
_HEADING = re.compile(r"<b>\s*[A-Z' ]*CRITICITA'?\s+PER\s+RISCHIO\s+([A-Z]+)\s*/\s*(ALLERTA\s+[A-Z]+)\s*:?\s*</b>",
                      re.IGNORECASE)
_REGION_LINE = re.compile(r"<b>([^<]+)</b>\s*:\s*([^<]*)")
_STAMP = re.compile(r"(\d{8})_(\d{4})")
_MONTHS = ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre",
           "novembre", "dicembre")
_DAY_LINE = re.compile(r"(\d{1,2})\s+(" + "|".join(_MONTHS) + r")\s+(\d{4})", re.IGNORECASE)


def dpc_level(text: str) -> str:
    """ "Elevata / ALLERTA ROSSA" -> red; anything unknown is green (no alert)."""
    colour = (text or "").rsplit("/", 1)[-1].strip().upper()
    return DPC_COLOURS.get(colour, "green")


@dataclass(frozen=True)
class DpcDay:
    """One day of a bulletin: the level per hazard per zone (zones by name, or by code when unnamed)."""

    day: str  # YYYY-MM-DD (Europe/Rome)
    levels: dict[str, dict[str, str]]  # hazard -> zone name -> level (only yellow and above are listed)


def _json(body: bytes, limit: int) -> Any:
    if len(body) > limit:
        raise AlertRefused(f"document over {limit} bytes")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise AlertRefused("not JSON") from None


def dpc_publication(index: dict) -> datetime:
    """When a bulletin was published: its `date` (UTC), else the stamp of its file names (Europe/Rome)."""
    raw = str(index.get("date") or "")
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        pass
    match = _STAMP.search(str((index.get("today") or {}).get("topo_json") or ""))
    if not match:
        raise AlertRefused("bulletin without a publication time")
    return datetime.strptime("".join(match.groups()), "%Y%m%d%H%M").replace(tzinfo=ROME).astimezone(UTC)


def _day_of(description: str, fallback: datetime) -> str:
    match = _DAY_LINE.search(description or "")
    if match:
        day, month, year = match.groups()
        return f"{int(year):04d}-{_MONTHS.index(month.lower()) + 1:02d}-{int(day):02d}"
    return fallback.date().isoformat()


def dpc_day_from_description(description: str, fallback: datetime, known: frozenset[str] = frozenset()) -> DpcDay:
    """A day of the bulletin from its `html_descrition`: headings per level and hazard, a line per region listing
    zone names (or codes)."""
    levels: dict[str, dict[str, str]] = {}
    parts = _HEADING.split(description or "")
    # split gives: text, hazard, colour, section, hazard, colour, section, ...
    for i in range(1, len(parts) - 2, 3):
        hazard = DPC_HAZARD_WORDS.get(parts[i].upper())
        level = DPC_COLOURS.get(" ".join(parts[i + 1].upper().split()), "green")
        if hazard is None or level == "green":
            continue
        for _region, names in _REGION_LINE.findall(parts[i + 2]):
            for name in _zone_names(html.unescape(names), known):
                current = levels.setdefault(hazard, {}).get(name)
                levels[hazard][name] = worst([level, current or "green"])
    return DpcDay(_day_of(description, fallback), levels)


def _zone_names(line: str, known: frozenset[str] = frozenset()) -> list[str]:
    """The zones of one region's line. Names hold commas ("Napoli, Isole e Area vesuviana"): the longest run of
    pieces that is a known zone name wins; otherwise a comma followed by a lower-case word continues the name."""
    pieces = [p.strip() for p in line.split(",") if p.strip()]
    names: list[str] = []
    i = 0
    while i < len(pieces):
        for j in range(min(len(pieces), i + 4), i, -1):
            candidate = ", ".join(pieces[i:j])
            if j == i + 1 or norm_name(candidate) in known:
                break
        if j == i + 1 and names and pieces[i][0].islower() and norm_name(pieces[i]) not in known:
            names[-1] = f"{names[-1]}, {pieces[i]}"
        else:
            names.append(candidate)
        i = j
    return names


def dpc_day_from_topojson(body: bytes, day: str) -> DpcDay:
    """A day of the bulletin from its TopoJSON: one geometry per zone with `Nome zona` and a level per hazard."""
    data = _json(body, MAX_BULLETIN_BYTES)
    if not isinstance(data, dict) or data.get("type") != "Topology":
        raise AlertRefused("not a TopoJSON topology")
    levels: dict[str, dict[str, str]] = {}
    for obj in (data.get("objects") or {}).values():
        for geometry in (obj or {}).get("geometries") or []:
            props = geometry.get("properties") or {}
            name = str(props.get("Nome zona") or "").strip()
            if not name:
                continue
            for prop, hazard in DPC_PROPERTIES.items():
                level = dpc_level(str(props.get(prop) or ""))
                if level != "green":
                    levels.setdefault(hazard, {})[name] = level
    return DpcDay(day, levels)


def zone_codes_by_name(rows: list[tuple[str, str]]) -> dict[str, str]:
    """The DPC zone list (zona_codice, zona_nome) as normalised name -> code; a code names itself too."""
    table = {}
    for code, name in rows:
        table[norm_name(name)] = code
        table[norm_name(code)] = code
    return table


def dpc_alerts(index_body: bytes, names: dict[str, str], days: dict[str, DpcDay] | None = None) -> list[Alert]:
    """The alerts of a bulletin (its index JSON): one per day (today, tomorrow) and hazard, with the zones at each
    level as areas. `names` maps zone names to codes (zone_codes_by_name); `days` may give a day already read from
    its TopoJSON (key "today"/"tomorrow"), else the index's description is read. Zones no table names keep their
    name as code. A hazard with no zone on alert still yields a green Alert, so a re-issue that clears it is seen."""
    index = _json(index_body, MAX_BULLETIN_BYTES)
    if not isinstance(index, dict) or "today" not in index:
        raise AlertRefused("not a DPC bulletin index")
    published = dpc_publication(index)
    stamp = _STAMP.search(str((index.get("today") or {}).get("topo_json") or ""))
    identifier = f"dpc-{stamp.group(0) if stamp else published.strftime('%Y%m%d_%H%M')}"
    link = str(index.get("today", {}).get("attachment", [{}])[0].get("pdf", "")) if isinstance(
        index.get("today", {}).get("attachment"), list) and index["today"]["attachment"] else ""
    alerts = []
    for which in ("today", "tomorrow"):
        part = index.get(which) or {}
        local_publication = published.astimezone(ROME)
        fallback = local_publication + (timedelta(days=1) if which == "tomorrow" else timedelta())
        day = (days or {}).get(which) or dpc_day_from_description(str(part.get("html_descrition") or ""), fallback,
                                                                  frozenset(names))
        start_day = datetime.fromisoformat(day.day).replace(tzinfo=ROME)
        onset = local_publication if which == "today" else start_day
        expires = start_day + timedelta(days=1)
        for hazard in ("idraulico", "idrogeologico", "temporali"):
            zones = day.levels.get(hazard, {})
            by_level: dict[str, list[str]] = {}
            for name, level in zones.items():
                by_level.setdefault(level, []).append(names.get(norm_name(name), name))
            top = worst(by_level)
            areas = tuple(Area(description=level, codes=tuple(sorted(set(codes))))
                          for level, codes in sorted(by_level.items(), key=lambda kv: rank(kv[0])))
            alerts.append(Alert(
                source="dpc", identifier=f"{identifier}-{which}-{hazard}", sender="protezionecivile.gov.it",
                sent=published.isoformat(), status="Actual", msg_type="Alert", hazard=hazard, level=top,
                onset=onset.isoformat(), expires=expires.isoformat(), areas=areas,
                headline=_clip(str(index.get("name") or "")), link=link,
                series=f"dpc:{day.day}:{hazard}"))
    return alerts


def dpc_zone_levels(alert: Alert) -> dict[str, str]:
    """A DPC alert's level per zone code (its areas are one per level)."""
    return {code: area.description for area in alert.areas for code in area.codes if area.description in LEVELS}


# ------------------------------------------------------------------------------------------------------------------
# Finding the newest DPC bulletin: GitHub's REST API answers (list commits of files/, one commit's files)

MAX_API_ANSWER_BYTES = 2_000_000  # a list of commits (a few KB each) or one commit with its files (at most 300)
COMMITS_LISTED = 10
_BULLETIN_FILE = re.compile(r"^files/(\d{8}_\d{4})\.json$")
_SHA = re.compile(r"^[0-9a-f]{40}$")


def github_commits(body: bytes) -> list[str]:
    """The commit ids of `GET /repos/{owner}/{repo}/commits?path=files`, newest first (at most COMMITS_LISTED)."""
    listed = _json(body, MAX_API_ANSWER_BYTES)
    if not isinstance(listed, list):
        raise AlertRefused("not a list of commits")
    shas = [str(c.get("sha") or "") for c in listed if isinstance(c, dict)]
    bad = [s for s in shas if not _SHA.match(s)]
    if bad or len(shas) != len(listed):
        raise AlertRefused("a commit without a valid id")
    return shas[:COMMITS_LISTED]


def github_bulletin_stamps(body: bytes) -> list[str]:
    """The bulletin stamps (YYYYMMDD_HHMM) one commit (`GET /repos/{owner}/{repo}/commits/{sha}`) adds or changes:
    its files named files/<stamp>.json (not the TopoJSON, style or attachment files, not removed ones)."""
    commit = _json(body, MAX_API_ANSWER_BYTES)
    if not isinstance(commit, dict) or not isinstance(commit.get("files", []), list):
        raise AlertRefused("not a commit")
    stamps = []
    for f in commit.get("files") or []:
        match = _BULLETIN_FILE.match(str((f or {}).get("filename") or "")) if isinstance(f, dict) else None
        if match and f.get("status") != "removed" and valid_stamp(match.group(1)):
            stamps.append(match.group(1))
    return sorted(set(stamps))


def valid_stamp(stamp: str) -> bool:
    try:
        datetime.strptime(stamp, "%Y%m%d_%H%M")
        return True
    except ValueError:
        return False


def newest_stamp(*stamps: str | None) -> str | None:
    """The newest of some bulletin stamps: YYYYMMDD_HHMM sorts by time, so a re-issue the same day wins."""
    found = [s for s in stamps if s and valid_stamp(s)]
    return max(found) if found else None


def retry_after(headers: dict[str, str], now: datetime) -> datetime | None:
    """When GitHub says to try again after a rate-limited answer (403 or 429): `retry-after` seconds, else the
    `x-ratelimit-reset` epoch when `x-ratelimit-remaining` is 0; None when the answer says neither."""
    wait = str(headers.get("retry-after") or "").strip()
    if wait.isdigit():
        return now + timedelta(seconds=int(wait))
    reset = str(headers.get("x-ratelimit-reset") or "").strip()
    if str(headers.get("x-ratelimit-remaining") or "").strip() == "0" and reset.isdigit():
        return max(now, datetime.fromtimestamp(int(reset), UTC))
    return None


# ------------------------------------------------------------------------------------------------------------------
# CAP 1.2 (OASIS Common Alerting Protocol), single documents and Atom/RSS feeds of them

# MeteoAlarm's awareness_type numbers (the convention of the Italian MeteoAlarm feed too)
AWARENESS_TYPES = {"1": "vento", "2": "neve", "3": "temporali", "4": "nebbia", "5": "caldo", "6": "freddo",
                   "7": "mareggiate", "8": "incendi", "9": "valanghe", "10": "pioggia", "12": "idraulico",
                   "13": "idrogeologico"}
SEVERITY_LEVELS = {"minor": "yellow", "moderate": "yellow", "severe": "orange", "extreme": "red"}
COLOUR_WORDS = {"green": "green", "yellow": "yellow", "orange": "orange", "red": "red", "verde": "green",
                "giallo": "yellow", "gialla": "yellow", "arancione": "orange", "rosso": "red", "rossa": "red"}
EVENT_WORDS = (("temporal", "temporali"), ("thunder", "temporali"), ("idraul", "idraulico"), ("flood", "idraulico"),
               ("idrogeolog", "idrogeologico"), ("vent", "vento"), ("wind", "vento"), ("gale", "vento"),
               ("neve", "neve"), ("snow", "neve"), ("ice", "neve"), ("ghiacc", "neve"), ("nebbia", "nebbia"),
               ("fog", "nebbia"), ("heat", "caldo"), ("caldo", "caldo"), ("frost", "freddo"), ("cold", "freddo"),
               ("mareggiat", "mareggiate"), ("coastal", "mareggiate"), ("incend", "incendi"), ("fire", "incendi"),
               ("valang", "valanghe"), ("avalanche", "valanghe"), ("rain", "pioggia"), ("piogg", "pioggia"))


def _parse_xml(body: bytes):
    """defusedxml's parser after a size cap: DTDs, entities and external references are refused outright."""
    if len(body) > MAX_DOCUMENT_BYTES:
        raise AlertRefused(f"document over {MAX_DOCUMENT_BYTES} bytes")
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        return fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise AlertRefused(f"hostile XML refused: {type(error).__name__}") from None
    except (ParseError, ValueError) as error:
        raise AlertRefused(f"not well-formed XML: {error}") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element, name: str):
    return next((c for c in element if _local(c.tag) == name), None)


def _children(element, name: str) -> list:
    return [c for c in element if _local(c.tag) == name]


def _text(element, name: str) -> str:
    found = _child(element, name) if element is not None else None
    return (found.text or "").strip() if found is not None and found.text else ""


def _pairs(element, name: str) -> list[tuple[str, str]]:
    return [(_text(p, "valueName"), _text(p, "value")) for p in _children(element, name)]


def _pick_info(infos: list) -> Any:
    """The Italian info block when there is one, else English, else the first."""
    for prefix in ("it", "en"):
        for info in infos:
            if _text(info, "language").lower().startswith(prefix):
                return info
    return infos[0] if infos else None


def _cap_level(info) -> str:
    for name, value in _pairs(info, "parameter"):
        if name.lower() == "awareness_level":  # "2; yellow; Moderate"
            for word in value.lower().replace(";", " ").split():
                if word in COLOUR_WORDS:
                    return COLOUR_WORDS[word]
    return SEVERITY_LEVELS.get(_text(info, "severity").lower(), "green")


def _cap_hazard(info) -> str:
    for name, value in _pairs(info, "parameter"):
        if name.lower() == "awareness_type":  # "1; Wind"
            number = value.split(";", 1)[0].strip()
            if number in AWARENESS_TYPES:
                return AWARENESS_TYPES[number]
    event = (_text(info, "event") + " " + " ".join(v for _, v in _pairs(info, "eventCode"))).lower()
    return next((hazard for word, hazard in EVENT_WORDS if word in event), "altro")


def _polygon(text: str) -> tuple[tuple[float, float], ...]:
    points = []
    for pair in text.split():
        try:
            lat, lon = (float(v) for v in pair.split(",")[:2])
        except ValueError:
            raise AlertRefused("a polygon point is not 'lat,lon'") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise AlertRefused("a polygon point is out of range")
        points.append((lat, lon))
    if len(points) < 4:
        raise AlertRefused("a polygon has fewer than 4 points")
    return tuple(points)


def _references(text: str) -> tuple[str, ...]:
    """CAP's references: space-separated "sender,identifier,sent" triples -> the identifiers."""
    ids = []
    for triple in text.split():
        parts = triple.split(",")
        if len(parts) >= 2:
            ids.append(parts[1])
    return tuple(ids)


def cap_alert(body: bytes) -> Alert:
    """One CAP 1.1/1.2 document."""
    root = _parse_xml(body)
    return _cap_from_element(root)


def _cap_from_element(root) -> Alert:
    if _local(root.tag) != "alert" or root.tag.split("}")[0].lstrip("{") not in CAP_NS:
        raise AlertRefused("not a CAP alert")
    identifier, sender, sent = _text(root, "identifier"), _text(root, "sender"), _text(root, "sent")
    msg_type, status = _text(root, "msgType"), _text(root, "status")
    if not identifier or not sender or not sent or msg_type not in MSG_TYPES + ("Ack", "Error"):
        raise AlertRefused("CAP alert without identifier, sender, sent or a known msgType")
    if len(identifier) > 300 or len(sender) > 300:
        raise AlertRefused("CAP identifier or sender too long")
    info = _pick_info(_children(root, "info"))
    areas = []
    if info is not None:
        for area in _children(info, "area")[:MAX_AREAS]:
            areas.append(Area(
                description=_clip(_text(area, "areaDesc"), 300),
                geocodes=tuple(f"{k}={v}" for k, v in _pairs(area, "geocode") if k and v),
                polygons=tuple(_polygon(p.text or "") for p in _children(area, "polygon") if (p.text or "").strip()),
            ))
    references = _references(_text(root, "references"))
    return Alert(
        source="cap", identifier=identifier, sender=sender, sent=sent, status=status or "Actual", msg_type=msg_type,
        hazard=_cap_hazard(info) if info is not None else "altro",
        level=_cap_level(info) if info is not None else "green",
        onset=(_text(info, "onset") or _text(info, "effective") or sent) if info is not None else sent,
        expires=_text(info, "expires") or None if info is not None else None, areas=tuple(areas),
        references=references, headline=_clip(_text(info, "headline") or _text(info, "event")),
        description=_clip(_text(info, "description")), language=_text(info, "language") or "",
        link=_text(info, "web")[:500], series=f"cap:{sender}:{identifier}",
    )


@dataclass(frozen=True)
class FeedEntry:
    """One entry of an Atom/RSS index of CAP alerts: where the document is, and when it changed."""

    id: str
    link: str
    updated: str = ""


def cap_feed(body: bytes) -> tuple[list[FeedEntry], list[Alert]]:
    """An Atom or RSS feed of CAP alerts, or a single CAP document: the entries to fetch, and any alerts the feed
    carries whole (a CAP <alert> inside an entry's content, or the document itself)."""
    root = _parse_xml(body)
    kind = _local(root.tag)
    if kind == "alert":
        return [], [_cap_from_element(root)]
    items = []
    if kind == "feed":
        items = _children(root, "entry")
    elif kind == "rss":
        channel = _child(root, "channel")
        items = _children(channel, "item") if channel is not None else []
    else:
        raise AlertRefused("neither a CAP alert nor an Atom/RSS feed")
    entries, alerts = [], []
    for item in items[:MAX_FEED_ENTRIES]:
        embedded = next((e for e in item.iter() if _local(e.tag) == "alert" and e is not item), None)
        if embedded is not None and _child(embedded, "identifier") is not None:
            alerts.append(_cap_from_element(embedded))
            continue
        link = ""
        for candidate in _children(item, "link"):
            link = candidate.get("href") or (candidate.text or "").strip()
            if link:
                break
        entry_id = _text(item, "id") or _text(item, "guid") or link
        if link.startswith(("http://", "https://")):
            entries.append(FeedEntry(entry_id[:500], link[:1000], _text(item, "updated") or _text(item, "pubDate")))
    return entries, alerts


# ------------------------------------------------------------------------------------------------------------------
# Where an alert falls in a comune, and what changed


@dataclass(frozen=True)
class Place:
    """A hamlet as alerts see it: its zone codes, CAP geocodes, and its outline (GeoJSON) if any."""

    hamlet_id: str
    codes: frozenset[str] = frozenset()
    geocodes: frozenset[str] = frozenset()
    geometry: dict | None = None
    point: tuple[float, float] | None = None  # (lat, lon)


def hamlet_levels(alert: Alert, places: list[Place]) -> dict[str, str]:
    """The level the alert gives each hamlet it touches (by zone code, geocode, or polygon over the outline);
    hamlets it does not touch are left out."""
    if alert.level == "green" or alert.msg_type == "Cancel":
        return {}
    zone_levels = dpc_zone_levels(alert) if alert.source == "dpc" else {}
    result: dict[str, str] = {}
    for place in places:
        if alert.source == "dpc":
            touched = [zone_levels[c] for c in place.codes if c in zone_levels]
            if touched:
                result[place.hamlet_id] = worst(touched)
            continue
        for area in alert.areas:
            if (set(area.codes) & place.codes or set(area.geocodes) & place.geocodes
                    or (area.polygons and _intersects(area.polygons, place))):
                result[place.hamlet_id] = alert.level
                break
    return result


def _intersects(polygons, place: Place) -> bool:
    if place.geometry is None and place.point is None:
        return False
    from shapely.geometry import Point, Polygon, shape  # lazily, as domain/outlines does

    target = shape(place.geometry) if place.geometry else Point(place.point[1], place.point[0])
    for ring in polygons:
        area = Polygon([(lon, lat) for lat, lon in ring])
        if not area.is_valid:
            area = area.buffer(0)
        if area.intersects(target):
            return True
    return False


def fingerprint(levels: dict[str, str], alert: Alert) -> str:
    """What decides whether a version is news: the level per hamlet, and for CAP the words citizens read. A DPC
    tomorrow bulletin that becomes today's has other times but the same fingerprint."""
    parts = {"levels": dict(sorted(levels.items()))}
    if alert.source != "dpc":
        parts["text"] = [alert.headline, alert.description]
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Change:
    """What a new version means for a comune: hamlets newly on alert or at another level (by level), and hamlets
    whose alert ended."""

    raised: dict[str, tuple[str, ...]] = field(default_factory=dict)  # level -> hamlets
    ended: tuple[str, ...] = ()
    text_changed: bool = False

    @property
    def empty(self) -> bool:
        return not self.raised and not self.ended and not self.text_changed


def compare(before: dict[str, str], after: dict[str, str], text_changed: bool = False) -> Change:
    """From the levels per hamlet last told to the new ones. With new words (CAP), every hamlet still on alert is
    told again."""
    raised: dict[str, list[str]] = {}
    for hamlet, level in sorted(after.items()):
        if before.get(hamlet) != level or text_changed:
            raised.setdefault(level, []).append(hamlet)
    ended = tuple(sorted(h for h in before if h not in after))
    return Change({k: tuple(v) for k, v in raised.items()}, ended, text_changed and bool(after))


def expired(alert_expires: str | None, now: datetime) -> bool:
    if not alert_expires:
        return False
    try:
        return datetime.fromisoformat(alert_expires.replace("Z", "+00:00")) <= now
    except ValueError:
        return False


def local_time(value: str | None) -> str:
    """An ISO time as Italians read it: 16/05/2023 15:22."""
    if not value:
        return ""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(ROME).strftime("%d/%m/%Y %H:%M")
    except ValueError:
        return value[:40]
