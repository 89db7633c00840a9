"""The demo comune seeded by make dev: Comune di Esempio, its hamlets, topics and three channels."""
from __future__ import annotations

import hashlib

from chalicelib.domain.tenancy import Channel
from chalicelib.store import directory

TENANT_ID = "demo"
TENANT_NAME = "Comune di Esempio"


def _square(lat: float, lon: float, half: float = 0.012) -> dict:
    """A GeoJSON polygon around a point (closed ring, lon/lat order)."""
    ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half],
            [lon - half, lat + half], [lon - half, lat - half]]
    return {"type": "Polygon", "coordinates": [ring]}


HAMLETS = [
    {"id": "capoluogo", "name": "Capoluogo", "latitude": 43.7190, "longitude": 10.9460},
    {"id": "pieve", "name": "Pieve a Ripoli", "latitude": 43.7430, "longitude": 10.9460},
    {"id": "santandrea", "name": "Sant'Andrea", "latitude": 43.7190, "longitude": 10.9700},
    {"id": "pontenuovo", "name": "Ponte Nuovo", "latitude": 43.6950, "longitude": 10.9460},
]
TOPICS = [
    {"id": "viabilita", "name": "Viabilità e lavori"},
    {"id": "allerte", "name": "Allerte e protezione civile", "short_name": "Allerte e prot. civile"},
    {"id": "acqua", "name": "Acqua e servizi"},
    {"id": "eventi", "name": "Eventi e cultura"},
]
REPORTS = {
    "categories": [
        {"id": "strade", "name": "Strade e marciapiedi", "team": "cantonieri",
         "keywords": ["buca", "asfalto", "strada", "marciapiede", "voragine", "dissesto"]},
        {"id": "illuminazione", "name": "Illuminazione pubblica", "team": "elettricisti",
         "keywords": ["lampione", "illuminazione", "lampada", "luce spenta", "buio"]},
        {"id": "verde", "name": "Verde pubblico", "team": "giardinieri",
         "keywords": ["albero", "rami", "erba", "siepe", "potatura", "parco"]},
        {"id": "rifiuti", "name": "Rifiuti e pulizia", "team": "cantonieri",
         "keywords": ["rifiuti", "spazzatura", "cassonetto", "abbandono", "sporcizia"]},
        {"id": "acque", "name": "Fossi e acque", "external_body": "consorzio",
         "keywords": ["fosso", "tombino", "allagamento", "canale", "scolo", "acqua stagnante"]},
        {"id": "segnaletica", "name": "Segnaletica", "team": "cantonieri",
         "keywords": ["cartello", "segnale", "segnaletica", "semaforo", "strisce"]},
        {"id": "altro", "name": "Altro", "keywords": []},
    ],
    "teams": [
        {"id": "cantonieri", "name": "Squadra cantonieri", "email": "cantonieri@comune.esempio.it"},
        {"id": "elettricisti", "name": "Squadra elettricisti", "email": "elettricisti@comune.esempio.it"},
        {"id": "giardinieri", "name": "Squadra verde", "email": "verde@comune.esempio.it"},
    ],
    "external_bodies": [
        {"id": "provincia", "name": "Provincia di Esempio (viabilità)", "email": "viabilita@provincia.esempio.it"},
        {"id": "consorzio", "name": "Consorzio di bonifica Esempio", "email": "segnalazioni@bonifica.esempio.it"},
    ],
    "duplicate_metres": 50,
    "duplicate_days": 14,
    # told by email of each new report (technical office) and tip (municipal police); teams with an email too
    "notify": {"report": ["ufficio.tecnico@comune.esempio.it"], "safety": ["polizia.municipale@comune.esempio.it"]},
    # working days to take a report in charge and to close it (the defaults), faster for a dark street lamp
    "targets": {"default": {"triaged": 2, "resolved": 30}, "categories": {"illuminazione": {"resolved": 10}},
                "due_soon_days": 1},
}
# the working calendar deadlines count on, besides weekends and national holidays
CALENDAR = {"patron_day": "06-24", "patron": "San Giovanni Battista", "closures": []}
# The templates a comune has WhatsApp approve (docs/deploy.md, section 8), as Meta's template API describes them:
# make dev registers them in the sandbox for the demo's business account, and tests for their own comuni.
TEMPLATES = [
    {"name": "conferma_iscrizione", "language": "it", "category": "UTILITY", "components": [
        {"type": "BODY", "text": "Hai chiesto di ricevere su WhatsApp gli avvisi del {{1}}. Tocca «Confermo» per "
                                 "attivare l'iscrizione; potrai smettere in qualsiasi momento scrivendo DISATTIVA."},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Confermo"}]}]},
    {"name": "avviso_comune", "language": "it", "category": "UTILITY", "components": [
        {"type": "BODY", "text": "Nuovo avviso del Comune:\n{{1}}\n\nTocca «Leggi l'avviso» per leggerlo per intero."},
        {"type": "FOOTER", "text": "Scrivi DISATTIVA per non ricevere più avvisi"},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Leggi l'avviso"}]}]},
    {"name": "aggiornamento_segnalazione", "language": "it", "category": "UTILITY", "components": [
        {"type": "BODY", "text": "Aggiornamento sulla segnalazione n. {{1}}: {{2}}.\nDettagli e mappa: {{3}}\n\n"
                                 "Grazie per averci scritto."}]},
    {"name": "conferma_aggiornamenti", "language": "it", "category": "UTILITY", "components": [
        {"type": "BODY", "text": "Hai chiesto di ricevere su WhatsApp gli aggiornamenti della segnalazione n. {{2}} "
                                 "del {{1}}. Tocca «Sì, aggiornatemi» per riceverli; se non sei stato tu, ignora "
                                 "questo messaggio."},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Sì, aggiornatemi"}]}]},
    {"name": "allerta_segnalazione", "language": "it", "category": "UTILITY", "components": [
        {"type": "BODY", "text": "Segnalazione urgente n. {{1}} alla Polizia municipale del {{2}}. Aprila nella "
                                 "console per leggerla."}]},
    {"name": "esito_segnalazione", "language": "it", "category": "UTILITY", "components": [
        {"type": "BODY", "text": "La segnalazione n. {{1}} risulta risolta. Dettagli: {{2}}\n\nIl problema è stato "
                                 "risolto davvero? Rispondi con un tocco: ci aiuta a lavorare meglio."},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Risolto"},
                                        {"type": "QUICK_REPLY", "text": "Non risolto"}]}]},
    # Vicinato (issue 16): news for a member or coordinator outside the 24-hour window, and the zone notices
    {"name": "novita_vicinato", "language": "it", "category": "UTILITY", "components": [
        {"type": "BODY", "text": "Controllo del Vicinato del {{1}}: c'è un messaggio per te. Tocca «Leggi» per "
                                 "vederlo."},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Leggi"}]}]},
    {"name": "avviso_vicinato", "language": "it", "category": "UTILITY", "components": [
        {"type": "BODY", "text": "Nuovo avviso del Controllo del Vicinato:\n{{1}}\n\nTocca «Leggi l'avviso» per "
                                 "leggerlo per intero."},
        {"type": "FOOTER", "text": "Scrivi ESCI VICINATO per non ricevere più avvisi"},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Leggi l'avviso"}]}]},
    {"name": "promemoria_appuntamento", "language": "it", "category": "UTILITY", "components": [
        {"type": "BODY", "text": "Promemoria del tuo appuntamento: {{1}}, {{2}}, presso {{3}}. Codice prenotazione "
                                 "{{4}}. Tocca «Confermo» se vieni, «Sposta» per cambiare giorno e ora, «Disdico» per "
                                 "liberare il posto."},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Confermo"},
                                        {"type": "QUICK_REPLY", "text": "Sposta"},
                                        {"type": "QUICK_REPLY", "text": "Disdico"}]}]},
    {"name": "aggiornamento_appuntamento", "language": "it", "category": "UTILITY", "components": [
        {"type": "BODY", "text": "Il tuo appuntamento {{1}} ({{2}}) è stato {{3}}. Per sceglierne un altro scrivi "
                                 "PRENOTA."}]},
]


def template_setting(name: str) -> dict:
    """A channel's setting for one of TEMPLATES: name, language, category and the approved texts (the preview's)."""
    template = next(t for t in TEMPLATES if t["name"] == name)
    parts = {c["type"]: c for c in template["components"]}
    setting = {"name": name, "language": template["language"], "category": template["category"].lower(),
               "body": parts["BODY"]["text"]}
    if "FOOTER" in parts:
        setting["footer"] = parts["FOOTER"]["text"]
    if "BUTTONS" in parts:
        setting["buttons"] = [b["text"] for b in parts["BUTTONS"]["buttons"] if b["type"] == "QUICK_REPLY"]
    return setting


# the demo comune's WhatsApp Business Account: its channels' templates are the account's (Meta's WABA id)
WABA_ID = "102290129340398"

CHANNELS = [
    Channel("100000000000001", TENANT_ID, "broadcast", "Notizie dal Comune", "+39 0571 000001", {
        "rate_per_second": 80,
        "reports_number": "+39 0571 000002",
        "templates": {
            "subscription_confirm": template_setting("conferma_iscrizione"),
            "notice": template_setting("avviso_comune"),
        },
    }, waba_id=WABA_ID),
    Channel("100000000000002", TENANT_ID, "reports", "Segnalazioni", "+39 0571 000002", {
        "rate_per_second": 80, "draft_minutes": 15,
        "templates": {"report_update": template_setting("aggiornamento_segnalazione"),
                      "follow_confirm": template_setting("conferma_aggiornamenti"),
                      "report_feedback": template_setting("esito_segnalazione")},
    }, waba_id=WABA_ID),
    Channel("100000000000003", TENANT_ID, "safety", "Sicurezza", "+39 0571 000003", {
        "rate_per_second": 80, "registered_only": True, "draft_minutes": 15,
        "watched_hours": {"start": "08:00", "end": "19:00", "timezone": "Europe/Rome"},
        "on_call_phone": "+393330000999",  # the demo's on-call officer: urgent tips reach it (urgent_tip)
        "templates": {"report_update": template_setting("aggiornamento_segnalazione"),
                      "urgent_tip": template_setting("allerta_segnalazione"),
                      "notice": template_setting("avviso_vicinato"),  # Vicinato's zone notices
                      "vicinato_news": template_setting("novita_vicinato"),
                      "agenda_reminder": template_setting("promemoria_appuntamento"),
                      "agenda_update": template_setting("aggiornamento_appuntamento")},
        "agenda_booking": True,  # PRENOTA books an appointment with the municipal police (AGENDA)
    }, waba_id=WABA_ID),
]

# The agenda (issue 17, docs/agenda.md): the municipal police's office, two counters, four services.
AGENDA = {
    "offices": [{
        "id": "polizia", "name": "Comando Polizia Locale", "short_name": "Polizia Locale",
        "address": "Piazza del Municipio 1",
        "counters": [{"id": "1", "name": "Sportello 1"}, {"id": "2", "name": "Sportello 2"}],
        "hours": {"mon": ["08:30-12:30"], "tue": ["08:30-12:30", "14:30-17:30"], "wed": ["08:30-12:30"],
                  "thu": ["08:30-12:30", "14:30-17:30"], "fri": ["08:30-12:30"], "sat": ["08:30-12:00"]},
        "closures": ["*-08-14", "2026-12-24", "2026-12-31"],
        "slot_minutes": 15, "capacity": 1,
    }],
    "services": [
        {"id": "incidente", "name": "Copia rapporto incidente stradale", "short_name": "Copia rapporto incidente",
         "office": "polizia", "duration_minutes": 15, "counters": ["1"],
         "bring": "Documento d'identità, una marca da bollo da 16 € (due per la copia conforme), data e luogo del "
                  "sinistro.", "modes": {"mon": "walk_in"}, "min_notice_days": 1, "horizon_days": 30},
        {"id": "smarriti", "name": "Ritiro oggetti smarriti", "office": "polizia", "duration_minutes": 15,
         "bring": "Documento d'identità e la denuncia di smarrimento o di furto.", "min_notice_days": 1,
         "horizon_days": 30},
        {"id": "contrassegno", "name": "Contrassegno disabili", "office": "polizia", "duration_minutes": 30,
         "counters": ["2"],
         "bring": "Documento d'identità, certificato dell'ufficio medico-legale dell'ASL, una fototessera; per il "
                  "rinnovo il contrassegno scaduto.", "min_notice_days": 2, "horizon_days": 60},
        {"id": "agente", "name": "Colloquio con l'agente di quartiere", "short_name": "Agente di quartiere",
         "office": "polizia", "duration_minutes": 30, "bring": "Eventuale documentazione sul problema (foto, esposti "
         "precedenti).", "modes": {"sat": "closed"}, "min_notice_days": 1, "horizon_days": 30},
    ],
    "reminder_hours": 24, "no_show_limit": 2, "release_hours": 3, "retention_days": 90,
}


# WhatsApp's prices per delivered message for Italian numbers (the usage meter's estimated cost): tenant data,
# dated, which the comune updates in Amministrazione > Consumi e costi when Meta changes its rate card.
PRICES = [{
    "valid_from": "2025-07-01", "currency": "EUR", "service": 0, "marketing": 0.0592, "utility": 0.0258,
    "authentication": 0.0258,
    # shown to staff as it is written, so in Italian
    "source": "Listino Meta dei prezzi per messaggio di WhatsApp (developers.facebook.com/documentation/"
              "business-messaging/whatsapp/pricing), Italia, dal 2025-07-01; cifre di esempio: verificare il listino "
              "in vigore",
}]


# Allerte (issue 19): the demo comune lies in the DPC alert zone Tosc-A4 (Valdarno Inferiore), its northern hamlet
# Pieve a Ripoli in Tosc-B (Bisenzio e Ombrone Pistoiese), so the bulletin make dev replays (16 May 2023, yellow for
# hydrogeological risk in Tosc-B) drafts a notice for Pieve a Ripoli; every level makes a draft (the default rule).
def demo_alerts(alert_feeds_url: str | None) -> dict:
    # the DPC feed finds the newest bulletin through the stand-in's copy of GitHub's API (local/alertfeeds.py)
    feeds = [{"id": "dpc", "kind": "dpc", "api_url": alert_feeds_url, "raw_url": alert_feeds_url}] \
        if alert_feeds_url else []
    return {"enabled": bool(feeds), "zones": ["Tosc-A4"], "places": {"pieve": {"zones": ["Tosc-B"]}},
            "feeds": feeds, "topic": "allerte", "link": "https://www.comune.esempio.it/protezione-civile"}


def _with_local_feeds(kept: dict, alerts: dict) -> dict:
    """The kept alert settings, the local feed stand-in's URL following this run's port (the rest as kept)."""
    if "alerts" not in kept:
        return alerts
    local = {f["id"]: f for f in alerts["feeds"]}
    where = ("url", "api_url", "raw_url")
    feeds = [{**{k: v for k, v in f.items() if k not in where}, **local[f["id"]]}
             if f["id"] in local and any(str(f.get(k) or "").startswith("http://127.0.0.1") for k in where)
             else f for f in kept["alerts"].get("feeds", [])]
    return {**kept["alerts"], "feeds": feeds}


def _local_feeds_moved(kept: dict, alerts: dict) -> bool:
    return _with_local_feeds(kept, alerts) != kept.get("alerts")


def seed_demo(open311_api_key: str | None = None, alert_feeds_url: str | None = None) -> None:
    """Write the demo tenant and its channels when make dev starts without them (a first or a clean start). Kept
    from an earlier run, they stay as the administrator left them in the console (Amministrazione > Impostazioni):
    only the Open311 demo partner's key follows this run's. With an Open311 key, a demo partner may file requests
    with it (the tenant keeps only its SHA-256)."""
    partners = [{"name": "demo-partner", "key_sha256": hashlib.sha256(open311_api_key.encode()).hexdigest()}] \
        if open311_api_key else []
    kept = directory.stored_tenant(TENANT_ID)
    alerts = demo_alerts(alert_feeds_url)
    if kept is None:
        directory.save_tenant(TENANT_ID, TENANT_NAME, {**demo_settings(), "open311_partners": partners,
                                                       "alerts": alerts})
    elif kept[0].get("open311_partners", []) != partners or _local_feeds_moved(kept[0], alerts):
        directory.update_tenant_settings(TENANT_ID, {**kept[0], "open311_partners": partners,
                                                     "alerts": _with_local_feeds(kept[0], alerts)}, kept[1])
    for channel in CHANNELS:
        if directory.stored_channel(channel.phone_number_id) is None:
            directory.save_channel(channel)
    seed_vicinato()


def demo_settings() -> dict:
    """The demo comune's settings as a first start writes them."""
    hamlets = [{**h, "geometry": _square(h["latitude"], h["longitude"])} for h in HAMLETS]
    return {
        "hamlets": hamlets,
        "topics": TOPICS,
        "privacy_notice_url": "https://www.comune.esempio.it/privacy/filo-diretto",
        "privacy_notice_version": "2026-11",
        "language": "it",
        "reports": REPORTS,
        "calendar": CALENDAR,
        # days per data kind, turned into DynamoDB TTLs (docs/privacy.md); these are the defaults, spelled out
        "retention": {"inactive_citizens": 30, "deliveries": 90, "closed_reports": 3 * 365, "conversations": 90},
        # caps on staff (docs/reliability.md A6/A7); the demo comune is for trying things out, so its broadcast
        # caps are ten times the defaults (20 per person per hour, 100 a day)
        "limits": {"staff_requests_per_minute": 1200, "broadcasts_per_user_per_hour": 200, "broadcasts_per_day": 1000},
        "prices": PRICES,
        "vicinato": VICINATO,
        "agenda": AGENDA,
    }


# ---- Vicinato (issue 16, docs/vicinato.md): two zones, a coordinator and a stand-in --------------------------------

VICINATO = {
    "enabled": True,
    "zones": [
        {"id": "pieve-nord", "name": "Pieve a Ripoli nord", "short_name": "Pieve nord", "hamlet": "pieve",
         "streets": ["Via Roma", "Via Dante", "Piazza della Pieve"]},
        {"id": "capoluogo-centro", "name": "Capoluogo centro", "hamlet": "capoluogo",
         "streets": ["Via Mazzini", "Via Garibaldi", "Corso Italia"]},
    ],
    "id_required": True, "id_photo_days": 30, "coordinator_minutes": 120, "stand_in_minutes": 120,
}
# demo numbers (the phone simulator plays them): the coordinator and the stand-in of Pieve a Ripoli nord
VICINATO_PEOPLE = [
    {"phone": "+393330000310", "role": "coordinator", "zone": "pieve-nord", "name": "Marta Neri",
     "address": "Via Roma 21", "prefettura_date": "2026-10-15", "prefettura_ref": "Prot. 4821/2026"},
    {"phone": "+393330000311", "role": "stand_in", "zone": "pieve-nord", "name": "Giorgio Lenzi",
     "address": "Via Dante 7"},
]


def seed_vicinato() -> None:
    """The demo's Vicinato: its settings on a tenant kept from before Vicinato existed, and the coordinator and
    stand-in of one zone (registered residents of the safety channel), when they are not there yet."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from chalicelib.domain.subscriptions import Citizen
    from chalicelib.domain.vicinato import Person, member_key, street_of
    from chalicelib.store import citizens
    from chalicelib.store import vicinato as people

    kept = directory.stored_tenant(TENANT_ID)
    if kept is not None and "vicinato" not in kept[0]:
        directory.update_tenant_settings(TENANT_ID, {**kept[0], "vicinato": VICINATO}, kept[1])
    safety = next(c for c in CHANNELS if c.kind == "safety").phone_number_id
    now = datetime.now(UTC)
    for entry in VICINATO_PEOPLE:
        key = member_key(safety, entry["phone"])
        if people.get_person(TENANT_ID, key) is not None:
            continue
        person = Person(tenant_id=TENANT_ID, channel_id=safety, citizen_key=entry["phone"], zone_id=entry["zone"],
                        role=entry["role"], status="active", phone=entry["phone"], name=entry["name"],
                        address=entry["address"], street=street_of(entry["address"]),
                        handle_no=people.next_handle(TENANT_ID, entry["zone"]),
                        source="staff", prefettura_date=entry.get("prefettura_date"),
                        prefettura_ref=entry.get("prefettura_ref"), requested_at=now, decided_at=now, updated_at=now)
        people.change_person(TENANT_ID, key, lambda current, person=person: person)
        citizen = citizens.get(safety, entry["phone"]) or Citizen(channel_id=safety, tenant_id=TENANT_ID,
                                                                  phone=entry["phone"], created_at=now)
        citizens.save(replace(citizen, status="active", name=entry["name"], address=entry["address"],
                              hamlet="pieve", source="vicinato", subscribed_at=now), now)

