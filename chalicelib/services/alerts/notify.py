"""From alerts to notices: where each alert falls in a comune, what changed since the comune was last told, and the
broadcasts that follow (drafts for a person to approve, or automatic sends, per the comune's rules).

Exactly once: a series' new version is recorded with a conditional write (store.alerts.record_version) together
with the broadcasts it plans, each with its id chosen beforehand; only then are the broadcasts written, each with a
conditional put on its id. A crash in between leaves them pending on the record, and the next poll writes them
(the same ids: never twice). Sending is the broadcast engine's: pacing, receipts and per-recipient idempotency."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from chalicelib.domain import alerts as rules
from chalicelib.domain.alerts import Alert, Place
from chalicelib.domain.broadcasts import Audience, due_time, notice_title
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.messages import text
from chalicelib.observability import logger
from chalicelib.services import clock
from chalicelib.store import alerts as store
from chalicelib.store import broadcasts, directory
from chalicelib.store.broadcasts import Broadcast

ACTOR = "allerte"  # created_by of the broadcasts alerts make (a person approves drafts: their own audit entry)
TEXT_MAX = 4000


@dataclass(frozen=True)
class Outcome:
    series: str
    planned: list[dict]  # the broadcasts this version made: {id, kind, level, hamlets, action}
    skipped: str = ""  # why nothing happened (seen, older, not actual, ...)


def places(tenant: Tenant) -> list[Place]:
    """The comune's hamlets as alerts see them (their own zones, else the comune's; their outline); a comune
    without hamlets is one place, the whole comune (id "")."""
    settings = tenant.alerts
    if not tenant.hamlets:
        return [Place("", frozenset(settings.zones), frozenset(settings.geocodes))]
    out = []
    for h in tenant.hamlets:
        own = settings.places.get(h.id)
        out.append(Place(h.id, frozenset(own.zones if own and own.zones else settings.zones),
                         frozenset(own.geocodes if own and own.geocodes else settings.geocodes),
                         geometry=h.geometry, point=(float(h.latitude), float(h.longitude))))
    return out


def channel_for(tenant: Tenant) -> Channel | None:
    wanted = tenant.alerts.channel
    for channel in directory.channels_of(tenant.id):
        if channel.kind == "broadcast" and (wanted is None or channel.phone_number_id == wanted):
            return channel
    return None


def handle(tenant: Tenant, found: list[Alert], now: datetime | None = None) -> list[Outcome]:
    """Every alert read for a comune (a feed's, a push's), oldest first."""
    now = now or clock.now()
    return [handle_one(tenant, alert, now) for alert in sorted(found, key=lambda a: a.sent)]


def series_of(tenant: Tenant, alert: Alert, now: datetime) -> str:
    """A DPC alert's series is its day and hazard; a CAP alert's, that of the first earlier version it references
    that the comune knows (else its own)."""
    if alert.source == "dpc":
        return alert.series
    series = next((s for s in (store.series_of_reference(tenant.id, ref) for ref in alert.references) if s), None)
    series = series or alert.series
    store.remember_reference(tenant.id, alert.identifier, series, now)
    return series


def handle_one(tenant: Tenant, alert: Alert, now: datetime) -> Outcome:
    if not alert.actual:
        return Outcome(alert.series, [], "not actual")
    series = series_of(tenant, alert, now)
    record = store.get_series(tenant.id, series)
    if record and record.pending:
        _write_pending(tenant, record)  # a crash after the last version was recorded: finish it first
    if record and _older(alert.sent, record.sent):
        return Outcome(series, [], "older than the version told")
    levels = {} if rules.expired(alert.expires, now) else rules.hamlet_levels(alert, places(tenant))
    return _apply(tenant, record, series, alert, levels, now)


def _apply(tenant: Tenant, record: store.Series | None, series: str, alert: Alert, levels: dict[str, str],
           now: datetime, note: str = "") -> Outcome:
    fingerprint = rules.fingerprint(levels, alert)
    if record and record.fingerprint == fingerprint:
        return Outcome(series, [], "seen")
    if record is None and not levels:
        # nothing on alert here and nothing told before: remember it, so a re-read is "seen"
        fresh = _series(tenant, series, alert, fingerprint, levels, {}, [], now, [], active=False)
        store.record_version(fresh, None, now)
        return Outcome(series, [], "not here")
    before = record.told if record else {}
    # the words changed (CAP): the old levels with the new words give another fingerprint than the one recorded
    text_changed = bool(record) and alert.source != "dpc" and rules.fingerprint(record.levels, alert) != record.fingerprint
    change = rules.compare(before, levels, text_changed)
    planned = _plan(tenant, alert, change, before, record is not None and bool(record.told), now)
    told = {h: lv for h, lv in before.items() if h not in change.ended}
    for item in planned:
        if item["kind"] != "end":
            told.update({h: item["level"] for h in item["hamlets"]})
    entry = {"at": now.isoformat(), "identifier": alert.identifier, "msg_type": alert.msg_type, "levels": levels,
             "broadcasts": [{k: p[k] for k in ("id", "kind", "level", "hamlets", "action")} for p in planned],
             **({"note": note} if note else {})}
    new = _series(tenant, series, alert, fingerprint, levels, told, planned, now,
                  (record.history if record else []) + [entry], active=bool(levels) or bool(told))
    if not store.record_version(new, record.fingerprint if record else None, now):
        return Outcome(series, [], "recorded meanwhile by another reader")
    _write_pending(tenant, new)
    logger.info("alert version recorded", extra={"tenant": tenant.id, "series": series,
                                                  "broadcasts": len(planned)})
    return Outcome(series, planned)


def _series(tenant, series, alert, fingerprint, levels, told, planned, now, history, active) -> store.Series:
    return store.Series(
        tenant_id=tenant.id, series=series, fingerprint=fingerprint, levels=levels, told=told, hazard=alert.hazard,
        source=alert.source, identifier=alert.identifier, sent=alert.sent, expires=alert.expires,
        headline=alert.headline, link=alert.link, active=active, pending=planned, history=history,
        updated_at=now.isoformat(), zones=_zones(tenant, alert) if levels else {})


def _zones(tenant: Tenant, alert: Alert) -> dict[str, str]:
    """The comune's own zone codes and geocodes the alert names, with its level there (the console's map)."""
    settings = tenant.alerts
    codes = set(settings.zones) | {c for p in settings.places.values() for c in p.zones}
    geocodes = set(settings.geocodes) | {g for p in settings.places.values() for g in p.geocodes}
    if alert.source == "dpc":
        return {c: lv for c, lv in rules.dpc_zone_levels(alert).items() if c in codes}
    return {g: alert.level for a in alert.areas for g in a.geocodes if g in geocodes}


def _older(sent: str, than: str) -> bool:
    try:
        return datetime.fromisoformat(sent.replace("Z", "+00:00")) < datetime.fromisoformat(than.replace("Z", "+00:00"))
    except ValueError:
        return False


def _new_id(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%S%f}-{secrets.token_hex(3)}"


def _plan(tenant: Tenant, alert: Alert, change: rules.Change, before: dict[str, str], updating: bool,
          now: datetime) -> list[dict]:
    """One broadcast per level among the hamlets newly on alert (or at another level), and one "fine allerta" for
    the hamlets told before and no longer on alert; each by the comune's rule for the hazard and level."""
    settings = tenant.alerts
    planned = []
    for index, (level, hamlets) in enumerate(sorted(change.raised.items(), key=lambda kv: -rules.rank(kv[0]))):
        action = settings.action(alert.hazard, level)
        if action == "nothing":
            continue
        is_update = updating and any(h in before for h in hamlets) or (updating and alert.msg_type == "Update")
        planned.append({"id": _new_id(now + timedelta(microseconds=index)), "kind": "update" if is_update else "alert",
                        "level": level, "hamlets": list(hamlets), "action": action,
                        "text": _notice_text(tenant, alert, level, hamlets, is_update)})
    if change.ended:
        was = rules.worst(before[h] for h in change.ended)
        action = settings.action(alert.hazard, was)
        if action != "nothing":
            planned.append({"id": _new_id(now + timedelta(microseconds=50)), "kind": "end", "level": was,
                            "hamlets": list(change.ended), "action": action,
                            "text": _end_text(tenant, alert, was, change.ended, now)})
    return planned


def _hamlet_names(tenant: Tenant, hamlets) -> str:
    if not tenant.hamlets or set(hamlets) >= {h.id for h in tenant.hamlets}:
        return text("alerts.whole_comune", tenant.language, comune=tenant.name)
    return ", ".join(h.name for h in tenant.hamlets if h.id in hamlets)


def _notice_text(tenant: Tenant, alert: Alert, level: str, hamlets, is_update: bool) -> str:
    language = tenant.language
    key = f"alerts.notice.{alert.hazard}.{level}"
    if key not in _catalogue(language):
        key = f"alerts.notice.{level}"
    body = text(key, language, update=text("alerts.update_prefix", language) if is_update else "",
                hazard=rules.HAZARDS.get(alert.hazard, alert.hazard), comune=tenant.name,
                hamlets=_hamlet_names(tenant, hamlets), start=rules.local_time(alert.onset),
                end=rules.local_time(alert.expires), headline=alert.headline, description=alert.description,
                source=_source(tenant, alert), link=_link(tenant, alert))
    return _tidy(body)


def _end_text(tenant: Tenant, alert: Alert, level: str, hamlets, now: datetime) -> str:
    language = tenant.language
    return _tidy(text("alerts.end", language, hazard=rules.HAZARDS.get(alert.hazard, alert.hazard),
                      level=rules.LEVEL_NAMES[level], comune=tenant.name, hamlets=_hamlet_names(tenant, hamlets),
                      at=rules.local_time(now.isoformat()), source=_source(tenant, alert),
                      link=_link(tenant, alert)))


def _link(tenant: Tenant, alert: Alert) -> str:
    """The comune's civil-protection page for a DPC bulletin (whose only links are zip archives), a CAP alert's own
    web page when it has one."""
    if alert.source == "dpc":
        return tenant.alerts.link or alert.link
    return alert.link or tenant.alerts.link


def _source(tenant: Tenant, alert: Alert) -> str:
    if alert.source == "dpc":
        return text("alerts.source.dpc", tenant.language)
    return text("alerts.source.cap", tenant.language, sender=alert.sender[:100])


def _catalogue(language: str) -> dict:
    from chalicelib.messages import catalogue

    return catalogue(language)


def _tidy(body: str) -> str:
    """The lines of a filled-in text without those left empty (a placeholder with nothing to say)."""
    return "\n".join(line.rstrip() for line in body.splitlines() if line.strip())[:TEXT_MAX]


def _write_pending(tenant: Tenant, record: store.Series) -> None:
    """Write the broadcasts a recorded version planned (each once: its id is fixed), then forget them."""
    channel = channel_for(tenant)
    if channel is None:
        logger.error("alerts: the comune has no broadcast channel", extra={"tenant": tenant.id})
        return
    for item in record.pending:
        _create(tenant, channel, item)
    store.clear_pending(tenant.id, record.series, record.fingerprint)


def _audience(tenant: Tenant, item: dict) -> Audience:
    hamlets = tuple(h for h in item["hamlets"] if h and tenant.hamlet(h))
    topic = tenant.alerts.topic
    everyone = item["level"] == "red" and tenant.alerts.red_to_everyone
    if not everyone and not tenant.topic(topic):
        logger.warning("alerts: the topic is not one of the comune's; sending to every subscriber",
                       extra={"tenant": tenant.id, "topic": topic})
        everyone = True
    return Audience(hamlets, () if everyone else (topic,))


def _create(tenant: Tenant, channel: Channel, item: dict) -> None:
    from chalicelib.services.broadcasts import schedule
    from chalicelib.services.broadcasts.compose import quiet_hours

    now = clock.now()
    priority = "alert" if item["level"] == "red" else "normal"
    status = "scheduled" if item["action"] == "auto" else "draft"
    record = Broadcast(
        tenant_id=tenant.id, id=item["id"], channel_id=channel.phone_number_id, status=status,
        content={"text": item["text"], "title": notice_title(item["text"]),
                 "alert": {"kind": item["kind"], "level": item["level"]}},
        audience=_audience(tenant, item), priority=priority, send_at=now.isoformat(),
        due_at=due_time(now, priority, quiet_hours(channel)).isoformat(), created_by=ACTOR,
        created_at=now.isoformat())
    try:
        broadcasts.create(record)
    except Exception as error:  # already written by an earlier attempt: the id is the alert's, so never twice
        if broadcasts.get(tenant.id, record.id) is None:
            raise
        logger.info("alert broadcast already written", extra={"broadcast_id": record.id, "error": str(error)[:100]})
        return
    if status == "scheduled" and record.due_at <= now.isoformat():
        schedule.start(record)


def sweep_expired(tenant: Tenant, now: datetime | None = None) -> list[Outcome]:
    """Series whose alert has expired while hamlets were still told: "fine allerta" to them. A DPC day that ends
    while the next day keeps the same hazard on alert for a hamlet ends nothing there (the next day's notice has
    already told it)."""
    now = now or clock.now()
    outcomes = []
    for record in store.series_page(tenant.id, active_only=True):
        if not record.told or not rules.expired(record.expires, now):
            continue
        still: dict[str, str] = {}
        if record.source == "dpc":
            day, hazard = record.series.split(":")[1:3]
            following = (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()
            nxt = store.get_series(tenant.id, f"dpc:{following}:{hazard}")
            still = {h: lv for h, lv in (nxt.told if nxt else {}).items() if h in record.told}
        ending = Alert(source=record.source, identifier=f"{record.identifier}#expired", sender="", sent=now.isoformat(),
                       status="Actual", msg_type="Cancel", hazard=record.hazard, level="green",
                       expires=record.expires, headline=record.headline, link=record.link, series=record.series)
        levels = dict(still)
        outcome = _apply(tenant, replace(record, told={h: lv for h, lv in record.told.items() if h not in still}),
                         record.series, ending, levels, now, note="expired")
        outcomes.append(outcome)
    return outcomes
