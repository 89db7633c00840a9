"""What the console's Allerte page shows: feeds, the zones' current levels, the history, the drafts waiting."""
from __future__ import annotations

from chalicelib.domain import alerts as rules
from chalicelib.domain.tenancy import Tenant
from chalicelib.services import clock
from chalicelib.services.alerts import notify, watch
from chalicelib.services.alerts.zones import dpc_zones
from chalicelib.store import alerts as store
from chalicelib.store import broadcasts

BROADCASTS_READ = 200  # the comune's latest broadcasts looked through for the alerts' ones


def overview(tenant: Tenant) -> dict:
    now = clock.now()
    series = store.series_page(tenant.id, limit=60)
    active = [s for s in series if s.active and s.zones]  # the watcher's sweep ends expired ones within 5 minutes
    return {
        "enabled": tenant.alerts.enabled,
        "feeds": watch.feeds_status(tenant, now),
        "zones": _zones(tenant, active),
        "series": [_series(s) for s in series],
        # what each hazard and level does (the defaults included): nothing, draft or auto
        "rules": {h: {lv: tenant.alerts.action(h, lv) for lv in ("yellow", "orange", "red")} for h in rules.HAZARDS},
        "red_to_everyone": tenant.alerts.red_to_everyone, "topic": tenant.alerts.topic,
        **_broadcasts(tenant),
    }


def _zones(tenant: Tenant, active: list[store.Series]) -> list[dict]:
    settings = tenant.alerts
    places = notify.places(tenant)
    names = dpc_zones()
    codes = list(dict.fromkeys([*settings.zones, *(c for p in settings.places.values() for c in p.zones),
                                *settings.geocodes, *(g for p in settings.places.values() for g in p.geocodes)]))
    out = []
    for code in codes:
        hazards: dict[str, str] = {}
        for s in active:
            level = s.zones.get(code)
            if level:
                hazards[s.hazard] = rules.worst([level, hazards.get(s.hazard, "green")])
        out.append({"code": code, "name": names.get(code, code), "level": rules.worst(hazards.values()),
                    "hazards": hazards,
                    "hamlets": [p.hamlet_id for p in places if code in p.codes or code in p.geocodes]})
    return out


def _series(s: store.Series) -> dict:
    return {"series": s.series, "source": s.source, "hazard": s.hazard, "identifier": s.identifier,
            "headline": s.headline, "link": s.link, "expires": s.expires, "active": s.active, "levels": s.levels,
            "told": s.told, "history": s.history, "updated_at": s.updated_at}


def _broadcasts(tenant: Tenant) -> dict:
    found, _ = broadcasts.page(tenant.id, BROADCASTS_READ, None)
    mine = [b for b in found if b.created_by == notify.ACTOR and "alert" in b.content]
    drafts = [{"id": b.id, "status": b.status, "text": b.content.get("text", ""),
               "level": b.content["alert"].get("level"), "kind": b.content["alert"].get("kind"),
               "audience": {"hamlets": list(b.audience.hamlets), "topics": list(b.audience.topics)},
               "created_at": b.created_at} for b in mine if b.status == "draft"]
    sent = [{"id": b.id, "status": b.status, "level": b.content["alert"].get("level"),
             "kind": b.content["alert"].get("kind"), "title": b.content.get("title", ""),
             "audience": {"hamlets": list(b.audience.hamlets), "topics": list(b.audience.topics)},
             "created_at": b.created_at, "started_at": b.started_at,
             "counters": {"recipients": b.counters.recipients, "sent": b.counters.sent,
                          "delivered": b.counters.delivered, "read": b.counters.read, "failed": b.counters.failed}}
            for b in mine]
    return {"drafts": drafts, "broadcasts": sent}
