"""The comune's settings as its administrator changes them (issue 15): one section at a time, validated by the typed
settings model (domain/settings.py), refused field by field in Italian, saved only over the version the
administrator read (a concurrent change is never lost silently), and audited with the section before and after.

A save takes effect at once in the Lambda that made it (store/directory.py forgets its cached tenant) and in the
others within directory.CACHE_SECONDS."""
from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain import outlines
from chalicelib.domain import settings as model
from chalicelib.domain.access import Staff
from chalicelib.domain.agenda import AgendaSettings
from chalicelib.domain.outlines import OutlineProblem
from chalicelib.services import clock
from chalicelib.services.access import NotFound, record, record_change
from chalicelib.services.admin import wording
from chalicelib.store import directory

SETTINGS_MAX_BYTES = 350_000  # a tenant is one DynamoDB item (400 KB): room for its name, keys and version
LISTS = {"hamlets": model.Hamlet, "topics": model.Topic}
OBJECTS = {"reports": model.ReportSettings, "calendar": model.Calendar, "retention": model.Retention,
           "limits": model.Limits, "alerts": model.AlertSettings, "vicinato": model.VicinatoSettings}
OBJECTS["agenda"] = AgendaSettings  # appointments (issue 17): offices, counters, services, reminders, retention
ROME = ZoneInfo("Europe/Rome")


class Refused(ValueError):
    """The settings sent are not valid: each problem {field, message, text} (text: Italian, for staff)."""

    def __init__(self, problems: list[dict[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{p['field']}: {p['message']}" for p in problems))


class Stale(Exception):
    """The settings changed since the version sent: reload, then save again."""


# ---- reading --------------------------------------------------------------------------------------------------


def _stored(staff: Staff) -> tuple[dict, int]:
    found = directory.stored_tenant(staff.tenant_id)
    if found is None:
        raise NotFound("tenant")
    return found


def _full(raw: dict) -> model.TenantSettings:
    settings, _ = model.lenient(model.TenantSettings, raw)
    return settings


def _json(kind, value) -> Any:
    return model.shown(kind, value)


def sections(settings: model.TenantSettings) -> dict[str, Any]:
    """Every section with its defaults filled in, as the forms show it."""
    shown = {name: _json(tuple[kind, ...], getattr(settings, name)) for name, kind in LISTS.items()}
    shown.update({name: _json(kind, getattr(settings, name)) for name, kind in OBJECTS.items()})
    shown["privacy"] = {"url": settings.privacy_notice_url, "version": settings.privacy_notice_version,
                        "history": _json(tuple[model.PrivacyNotice, ...], settings.privacy_notice_history)}
    return shown


def read(staff: Staff) -> dict[str, Any]:
    """The comune's settings for its administrator (audited: the notify addresses are personal data)."""
    raw, version = _stored(staff)
    tenant = directory.get_tenant(staff.tenant_id)
    record(staff, "settings.read", staff.tenant_id)
    return {
        "version": version, "tenant": {"id": staff.tenant_id, "name": tenant.name if tenant else staff.tenant_id},
        "sections": sections(_full(raw)),
        "knobs": {name: model.knobs(kind) for name, kind in
                  (*OBJECTS.items(), ("targets", model.Targets), ("hamlet", model.Hamlet), ("topic", model.Topic),
                   ("category", model.Category), ("team", model.Team), ("external_body", model.ExternalBody))},
        "outline_limits": {"italy": outlines.ITALY, "vertices": outlines.MAX_VERTICES,
                           "file_bytes": outlines.MAX_FILE_BYTES, "near_km": outlines.NEAR_KM},
    }


# ---- saving a section ------------------------------------------------------------------------------------------


def _section_of(stored: dict, section: str) -> Any:
    """A section's stored JSON (only what differs from the defaults), for the audit trail."""
    if section == "privacy":
        return {knob: stored[knob] for knob in model.PRIVACY_KNOBS if knob in stored}
    return stored.get(section)


def save(staff: Staff, section: str, version: int, value: Any) -> dict[str, Any]:
    """Replace one section; Refused (nothing saved) or Stale (nothing saved) otherwise. The new version."""
    raw, current = _stored(staff)
    if current != version:
        raise Stale(section)
    changed = dict(raw)
    if section == "privacy":
        changed.update(_privacy(raw, value))
    elif section == "hamlets":
        changed["hamlets"] = _hamlets(raw.get("hamlets") or [], value)
    else:
        changed[section] = value
    _check(section, changed)
    after = model.stored(model.tenant_settings(changed))
    if len(json.dumps(after, ensure_ascii=False).encode()) > SETTINGS_MAX_BYTES:
        raise Refused([wording.problem(section, "too_large")])
    record_change(staff, f"settings.{section}", staff.tenant_id, _section_of(model.stored(_full(raw)), section),
                  _section_of(after, section))
    try:
        new = directory.update_tenant_settings(staff.tenant_id, after, version)
    except directory.StaleVersion:
        raise Stale(section) from None
    return {"version": new, "sections": sections(_full(after))}


def _check(section: str, settings: dict) -> None:
    errors = model.problems(model.TenantSettings, settings)
    if errors:
        raise Refused(wording.from_pydantic("", [_relative(e, section) for e in errors]))
    problems = _references(settings) + _unique_ids(settings)
    if problems:
        raise Refused(problems)


def _relative(error: dict, section: str) -> dict:
    """An error of the privacy knobs is the privacy section's (privacy_notice_url -> privacy.url)."""
    loc = tuple(error.get("loc", ()))
    if loc and loc[0] in model.PRIVACY_KNOBS:
        names = {"privacy_notice_url": "url", "privacy_notice_version": "version", "privacy_notice_history": "history"}
        loc = ("privacy", names[loc[0]], *loc[1:])
    return {**error, "loc": loc}


def _unique_ids(settings: dict) -> list[dict[str, str]]:
    reports = settings.get("reports") or {}
    lists = {"hamlets": settings.get("hamlets"), "topics": settings.get("topics"),
             "reports.categories": reports.get("categories"), "reports.teams": reports.get("teams"),
             "reports.external_bodies": reports.get("external_bodies")}
    problems = []
    for where, items in lists.items():
        seen: set[str] = set()
        for index, item in enumerate(items or []):
            if item["id"] in seen:
                problems.append(wording.problem(f"{where}.{index}.id", "duplicate_id", id=item["id"]))
            seen.add(item["id"])
    return problems


def _references(settings: dict) -> list[dict[str, str]]:
    """Each category's team and external body exist."""
    reports = settings.get("reports") or {}
    teams = {t["id"] for t in reports.get("teams") or []}
    bodies = {b["id"] for b in reports.get("external_bodies") or []}
    problems = []
    for index, category in enumerate(reports.get("categories") or []):
        where = f"reports.categories.{index}"
        if category.get("team") and category["team"] not in teams:
            problems.append(wording.problem(f"{where}.team", "unknown_team", id=category["team"]))
        if category.get("external_body") and category["external_body"] not in bodies:
            problems.append(wording.problem(f"{where}.external_body", "unknown_body", id=category["external_body"]))
        if category.get("team") and category.get("external_body"):
            problems.append(wording.problem(f"{where}.external_body", "team_and_body"))
    return problems


def _privacy(raw: dict, value: Any) -> dict[str, Any]:
    """A new version of the privacy notice: {url, version}; from now on consents record it."""
    if not isinstance(value, dict) or set(value) - {"url", "version"}:
        raise Refused([wording.problem("privacy", "invalid")])
    history = list(raw.get("privacy_notice_history") or [])
    if not history and raw.get("privacy_notice_version"):  # set before the history was kept
        history.append({"version": raw["privacy_notice_version"], "url": raw.get("privacy_notice_url") or "",
                        "since": None})
    version = value.get("version")
    if isinstance(version, str) and version in {h["version"] for h in history}:
        raise Refused([wording.problem("privacy.version", "version_used", id=version)])
    notice = {"version": version, "url": value.get("url"), "since": clock.now().astimezone(ROME).date().isoformat()}
    errors = model.problems(model.PrivacyNotice, notice)
    if errors:
        raise Refused(wording.from_pydantic("privacy", errors))
    history = [*history, notice][-model.PRIVACY_HISTORY_MAX:]
    return {"privacy_notice_url": value.get("url"), "privacy_notice_version": version,
            "privacy_notice_history": history}


# ---- hamlets and their outlines -------------------------------------------------------------------------------


def _hamlets(before: list[dict], value: Any) -> Any:
    """The hamlets sent, each outline checked (in Italy, closed, not crossing itself, near the comune) and a hamlet
    without a point given one inside its outline."""
    if not isinstance(value, list):
        return value  # the model refuses it, naming the section
    centre = _centre(before) or _first_vertex(value)
    problems, kept = [], []
    for index, hamlet in enumerate(value):
        if isinstance(hamlet, dict) and hamlet.get("geometry") is not None:
            try:
                hamlet = _with_outline(hamlet, centre)
            except OutlineProblem as problem:
                problems.append(wording.outline_problem(f"hamlets.{index}.geometry", problem))
        kept.append(hamlet)
    if problems:
        raise Refused(problems)
    return kept


def _centre(hamlets: list[dict]) -> tuple[float, float] | None:
    points = [(h["longitude"], h["latitude"]) for h in hamlets if isinstance(h, dict) and "longitude" in h]
    if not points:
        return None
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


def _first_vertex(hamlets: list) -> tuple[float, float] | None:
    for hamlet in hamlets:
        try:
            return outlines.vertices(outlines.check_geometry(hamlet.get("geometry")))[0]
        except (OutlineProblem, AttributeError, IndexError):
            continue
    return None


def _with_outline(hamlet: dict, centre: tuple[float, float] | None) -> dict:
    from shapely.geometry import shape  # lazily: only a save of outlines needs it

    geometry = outlines.check_geometry(hamlet["geometry"])
    if centre and outlines.far_from(geometry, centre):
        raise OutlineProblem("far_from_comune", most=outlines.NEAR_KM)
    figure = shape(geometry)
    if not figure.is_valid:
        raise OutlineProblem("crosses_itself")
    if "latitude" not in hamlet or "longitude" not in hamlet:
        point = figure.representative_point()
        hamlet = {**hamlet, "latitude": round(point.y, 6), "longitude": round(point.x, 6)}
    return {**hamlet, "geometry": geometry}


def import_outlines(staff: Staff, text: bytes) -> dict[str, Any]:
    """The named outlines of a GeoJSON file, checked as a save would check them, each with a point inside it;
    nothing is saved (the console adds them to the hamlets, then saves). Refused with a problem per feature."""
    found, problems = outlines.outlines_from_geojson(text)
    worded = [wording.outline_problem(_feature_field(p), OutlineProblem(p["code"], **p["params"])) for p in problems]
    if worded:
        raise Refused(worded)
    raw, _ = _stored(staff)
    centre = _centre(raw.get("hamlets") or []) or _first_vertex(found)
    hamlets = []
    for index, outline in enumerate(found):
        try:
            hamlets.append(_with_outline(outline, centre))
        except OutlineProblem as problem:
            worded.append(wording.outline_problem(_feature_field({"feature": index, "name": outline["name"]}), problem))
    if worded:
        raise Refused(worded)
    return {"hamlets": hamlets}


def _feature_field(problem: dict) -> str:
    if problem.get("feature") is None:
        return "file"
    name = problem.get("name")
    return f"features.{problem['feature']}" + (f" ({name})" if name else "")

