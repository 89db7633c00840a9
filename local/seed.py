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
    {"id": "allerte", "name": "Allerte e protezione civile"},
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
        {"id": "cantonieri", "name": "Squadra cantonieri"},
        {"id": "elettricisti", "name": "Squadra elettricisti"},
        {"id": "giardinieri", "name": "Squadra verde"},
    ],
    "external_bodies": [
        {"id": "provincia", "name": "Provincia di Esempio (viabilità)", "email": "viabilita@provincia.esempio.it"},
        {"id": "consorzio", "name": "Consorzio di bonifica Esempio", "email": "segnalazioni@bonifica.esempio.it"},
    ],
    "duplicate_metres": 50,
    "duplicate_days": 14,
}
CHANNELS = [
    Channel("100000000000001", TENANT_ID, "broadcast", "Notizie dal Comune", "+39 0571 000001", {
        "rate_per_second": 80,
        "reports_number": "+39 0571 000002",
        "templates": {
            "subscription_confirm": {"name": "conferma_iscrizione", "language": "it", "category": "utility"},
            "notice": {"name": "avviso_comune", "language": "it", "category": "utility"},
        },
    }),
    Channel("100000000000002", TENANT_ID, "reports", "Segnalazioni", "+39 0571 000002", {
        "rate_per_second": 80, "draft_minutes": 15,
        "templates": {
            "report_update": {"name": "aggiornamento_segnalazione", "language": "it", "category": "utility"},
            "follow_confirm": {"name": "conferma_aggiornamenti", "language": "it", "category": "utility"},
        },
    }),
    Channel("100000000000003", TENANT_ID, "safety", "Sicurezza", "+39 0571 000003", {
        "rate_per_second": 80, "registered_only": True, "draft_minutes": 15,
        "watched_hours": {"start": "08:00", "end": "19:00", "timezone": "Europe/Rome"},
        "templates": {
            "report_update": {"name": "aggiornamento_segnalazione", "language": "it", "category": "utility"},
        },
    }),
]


def seed_demo(open311_api_key: str | None = None) -> None:
    """Write the demo tenant and its channels (idempotent: running it twice changes nothing). With an
    Open311 key, a demo partner may file requests with it (the tenant keeps only its SHA-256)."""
    hamlets = [{**h, "geometry": _square(h["latitude"], h["longitude"])} for h in HAMLETS]
    directory.save_tenant(TENANT_ID, TENANT_NAME, {
        "hamlets": hamlets,
        "topics": TOPICS,
        "privacy_notice_url": "https://www.comune.esempio.it/privacy/filo-diretto",
        "privacy_notice_version": "2026-11",
        "language": "it",
        "reports": REPORTS,
        # days per data kind, turned into DynamoDB TTLs (docs/privacy.md); these are the defaults, spelled out
        "retention": {"inactive_citizens": 30, "deliveries": 90, "closed_reports": 3 * 365},
        # caps on staff (docs/reliability.md A6/A7); the demo comune is for trying things out, so its broadcast
        # caps are ten times the defaults (20 per person per hour, 100 a day)
        "limits": {"staff_requests_per_minute": 1200, "broadcasts_per_user_per_hour": 200, "broadcasts_per_day": 1000},
        "open311_partners": [{"name": "demo-partner", "key_sha256": hashlib.sha256(open311_api_key.encode()).hexdigest()}]
        if open311_api_key else [],
    })
    for channel in CHANNELS:
        directory.save_channel(channel)
