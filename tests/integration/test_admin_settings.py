"""The comune's settings for its administrator (issue 15): each section saved and read back over HTTP, refusals
field by field in Italian with nothing changed, GeoJSON outlines checked, a new hamlet used at once by the
broadcast preview and by a report pinned in it, a stale save refused, every change audited with before and after,
a new privacy notice version recorded by the next consent, a channel's knobs and texts."""
from __future__ import annotations

import json
import uuid

import pytest
import requests

from chalicelib.domain.tenancy import Channel
from chalicelib.store import audit, directory
from local.seed import REPORTS, _square

CENTRE = (43.7190, 10.9460)
NEW = (43.7450, 10.9800)  # ~4 km north-east: a hamlet the comune did not have


def ring(lat: float, lon: float, half: float = 0.01) -> list[list[float]]:
    return _square(lat, lon, half)["coordinates"][0]


class Comune:
    """A comune of this file's own (ids from 73): a hamlet, a topic, a broadcast and a reports channel."""

    def __init__(self, stack):
        n = uuid.uuid4().int % 10**9
        self.stack, self.tenant = stack, f"73comune{n}"
        self.broadcast, self.reports = f"73{n:013d}", f"73{(n + 1) % 10**9:013d}9"
        directory.save_tenant(self.tenant, f"Comune di Settantatré {n}", {
            "hamlets": [{"id": "centro", "name": "Centro", "latitude": CENTRE[0], "longitude": CENTRE[1],
                         "geometry": _square(*CENTRE)}],
            "topics": [{"id": "allerte", "name": "Allerte"}], "reports": REPORTS,
            "privacy_notice_url": "https://example.org/privacy-v1", "privacy_notice_version": "v1"})
        directory.save_channel(Channel(self.broadcast, self.tenant, "broadcast", "Avvisi", "+39 0571 730000", {
            "quiet_hours": {"enabled": False}, "texts": {"auto_reply.reports_hint": "Segnalazioni: {reports_number}"},
            "templates": {"notice": {"name": "avviso_comune", "language": "it", "category": "utility"}}}))
        directory.save_channel(Channel(self.reports, self.tenant, "reports", "Segnalazioni", "+39 0571 730001", {}))

    def call(self, method: str, path: str, role: str = "admin", **kwargs) -> requests.Response:
        token = self.stack.issuer.token(self.tenant, [role], name="Anna Amministratrice")
        return requests.request(method, f"{self.stack.api_url}{path}", timeout=30,
                                headers={"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}, **kwargs)

    def settings(self) -> dict:
        answer = self.call("GET", "/api/v1/settings")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def save(self, section: str, value, version: int | None = None) -> requests.Response:
        version = self.settings()["version"] if version is None else version
        return self.call("PUT", f"/api/v1/settings/{section}", json={"version": version, "value": value})

    def changes(self, action: str) -> list[audit.AuditEntry]:
        return [e for e in audit.recent(self.tenant, 200) if e.action == action]


@pytest.fixture
def comune(stack):
    return Comune(stack)


def test_only_an_administrator_reads_or_changes_settings(comune):
    for role in ("communications", "technical", "police"):
        assert comune.call("GET", "/api/v1/settings", role=role).status_code == 403
        assert comune.call("PUT", "/api/v1/settings/topics", role=role,
                           json={"version": 0, "value": []}).status_code == 403
        assert comune.call("GET", f"/api/v1/channels/{comune.broadcast}/settings", role=role).status_code == 403


def test_each_section_is_saved_and_read_back(comune):
    reports = {**REPORTS, "teams": [*REPORTS["teams"], {"id": "verde", "name": "Verde pubblico",
                                                        "email": "verde@comune.example.it"}],
               "targets": {"default": {"triaged": 3, "resolved": 20}, "categories": {"strade": {"resolved": 10}}}}
    values = {
        "topics": [{"id": "allerte", "name": "Allerte"}, {"id": "eventi", "name": "Eventi e cultura"}],
        "reports": reports,
        "calendar": {"patron_day": "06-24", "patron": "San Giovanni", "closures": ["2026-12-24"]},
        "retention": {"inactive_citizens": 60, "deliveries": 120, "closed_reports": 730, "conversations": 30},
        "limits": {"staff_requests_per_minute": 600, "broadcasts_per_user_per_hour": 5, "broadcasts_per_day": 40,
                   "broadcast_messages_per_day": 10_000},
    }
    for section, value in values.items():
        answer = comune.save(section, value)
        assert answer.status_code == 200, answer.text
    shown = comune.settings()["sections"]
    assert [t["id"] for t in shown["topics"]] == ["allerte", "eventi"]
    assert shown["reports"]["teams"][-1] == {"id": "verde", "name": "Verde pubblico", "email": "verde@comune.example.it"}
    assert shown["reports"]["targets"]["categories"] == {"strade": {"resolved": 10}}
    assert shown["calendar"] == {"patron_day": "06-24", "patron": "San Giovanni", "closures": ["2026-12-24"]}
    assert shown["retention"]["deliveries"] == 120 and shown["limits"]["broadcasts_per_day"] == 40
    # what the rest of the system reads (the directory, as every Lambda does) changed too
    tenant = directory.get_tenant(comune.tenant)
    assert [t.id for t in tenant.topics] == ["allerte", "eventi"] and tenant.retention.deliveries == 120
    assert comune.call("GET", "/api/v1/tenant").json()["topics"][-1] == {"id": "eventi", "name": "Eventi e cultura"}


def test_invalid_values_are_refused_in_italian_by_field_and_nothing_changes(comune):
    before = comune.settings()
    cases = [
        ("retention", {**before["sections"]["retention"], "deliveries": 0}, "retention.deliveries", "minimo è 1"),
        ("limits", {"broadcasts_per_day": "molti"}, "limits.broadcasts_per_day", "numero intero"),
        ("topics", [{"id": "x", "name": "Un argomento dal nome davvero troppo lungo"}], "topics.0", "nome breve"),
        ("topics", [{"id": "a", "name": "A"}, {"id": "a", "name": "B"}], "topics.1.id", "Codice ripetuto"),
        ("calendar", {"patron_day": "13-40"}, "calendar.patron_day", "Giorno non valido"),
        ("reports", {**REPORTS, "teams": [{"id": "t", "name": "T", "email": "non-una-email"}]},
         "reports.teams.0.email", "email non valido"),
        ("reports", {**REPORTS, "categories": [{"id": "c", "name": "C", "team": "nessuna"}], "targets": {}},
         "reports.categories.0.team", "Squadra sconosciuta"),
        ("reports", {**REPORTS, "targets": {"default": {"triaged": 10, "resolved": 5}}}, "reports.targets",
         "meno giorni"),
        ("privacy", {"url": "non un indirizzo", "version": "v2"}, "privacy.url", "Indirizzo web non valido"),
    ]
    for section, value, field, italian in cases:
        answer = comune.save(section, value)
        assert answer.status_code == 422, (section, answer.text)
        details = answer.json()["error"]["details"]
        assert any(d["field"].startswith(field) and italian in d["text"] for d in details), (section, details)
    after = comune.settings()
    assert after["sections"] == before["sections"] and after["version"] == before["version"]
    assert comune.changes("settings.retention") == []


def test_a_stale_version_is_refused_and_loses_nothing(comune):
    read_by_both = comune.settings()["version"]
    first = comune.save("topics", [{"id": "eventi", "name": "Eventi"}], version=read_by_both)
    assert first.status_code == 200, first.text
    second = comune.save("topics", [{"id": "sport", "name": "Sport"}], version=read_by_both)
    assert second.status_code == 409 and second.json()["error"]["code"] == "stale_version"
    assert [t["id"] for t in comune.settings()["sections"]["topics"]] == ["eventi"]
    retry = comune.save("topics", [{"id": "eventi", "name": "Eventi"}, {"id": "sport", "name": "Sport"}],
                        version=first.json()["version"])
    assert retry.status_code == 200, retry.text


def test_every_change_is_audited_with_who_before_and_after(comune):
    comune.save("limits", {"broadcasts_per_day": 30})
    comune.save("limits", {"broadcasts_per_day": 31})
    entries = comune.changes("settings.limits")
    assert len(entries) == 2
    latest = entries[0]
    assert latest.actor_name == "Anna Amministratrice" and latest.target == comune.tenant
    assert latest.before == {"broadcasts_per_day": 30} and latest.after == {"broadcasts_per_day": 31}
    # as the audit viewer (Registro accessi) shows it
    shown = comune.call("GET", "/api/v1/audit", params={"action": "settings.limits"}).json()["items"]
    assert [(e["action_label"], e["actor_name"], e["before"], e["after"]) for e in shown][0] == (
        "Limiti modificati", "Anna Amministratrice", {"broadcasts_per_day": 30}, {"broadcasts_per_day": 31})


def test_a_new_hamlet_is_offered_to_the_composer_and_catches_a_pin_at_once(comune):
    settings = comune.settings()
    hamlets = settings["sections"]["hamlets"]
    preview = {"channel": comune.broadcast, "text": "Strada chiusa", "audience": {"hamlets": ["querce"], "topics": []}}
    assert comune.call("POST", "/api/v1/broadcast-preview", json=preview).status_code == 422  # not a hamlet yet
    drawn = {"id": "querce", "name": "Le Querce", "geometry": {"type": "Polygon", "coordinates": [ring(*NEW)]}}
    saved = comune.save("hamlets", [*hamlets, drawn], version=settings["version"])
    assert saved.status_code == 200, saved.text
    querce = saved.json()["sections"]["hamlets"][-1]
    assert abs(querce["latitude"] - NEW[0]) < 0.01 and abs(querce["longitude"] - NEW[1]) < 0.01  # a point inside
    # no wait for the cache: the Lambda that saved forgot its copy of the comune
    offered = comune.call("GET", "/api/v1/tenant").json()["hamlets"]["features"]
    assert [f["id"] for f in offered] == ["centro", "querce"]
    answer = comune.call("POST", "/api/v1/broadcast-preview", json=preview)
    assert answer.status_code == 200, answer.text
    report = comune.call("POST", "/api/v1/reports", json={
        "source": "desk", "text": "Lampione spento", "position": {"latitude": NEW[0], "longitude": NEW[1]}})
    assert report.status_code == 201, report.text
    assert report.json()["hamlet"] == "querce"
    assert [e.after for e in comune.changes("settings.hamlets")][0][-1]["id"] == "querce"


def test_a_geojson_file_is_read_into_named_hamlets(comune):
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "San Martino in Colle"},
         "geometry": {"type": "Polygon", "coordinates": [ring(*NEW)]}},
        {"type": "Feature", "id": "bosco", "properties": {"nome": "Il Bosco"},
         "geometry": {"type": "MultiPolygon", "coordinates": [[ring(43.70, 10.92, 0.004)], [ring(43.69, 10.92, 0.004)]]}},
    ]}
    answer = comune.call("POST", "/api/v1/settings/hamlets/import", data=json.dumps(collection),
                         headers={"Content-Type": "application/geo+json"})
    assert answer.status_code == 200, answer.text
    read = answer.json()["hamlets"]
    assert [(h["id"], h["name"]) for h in read] == [("san-martino-in-colle", "San Martino in Colle"),
                                                     ("bosco", "Il Bosco")]
    assert comune.settings()["sections"]["hamlets"][-1]["id"] == "centro"  # nothing saved by reading a file
    settings = comune.settings()
    saved = comune.save("hamlets", settings["sections"]["hamlets"] + read, version=settings["version"])
    assert saved.status_code == 200, saved.text
    assert directory.get_tenant(comune.tenant).hamlet("bosco").geometry["type"] == "MultiPolygon"


@pytest.mark.parametrize("document, italian, outline", [
    ("{not json", "non si legge come JSON", False),
    ({"type": "FeatureCollection", "features": []}, "nessuna frazione", False),
    ({"type": "Point", "coordinates": [10.9, 43.7]}, "non Point", False),
    ({"type": "Feature", "properties": {"name": "Aperta"},
      "geometry": {"type": "Polygon", "coordinates": [ring(*NEW)[:-1]]}}, "non è chiuso", True),
    ({"type": "Feature", "properties": {"name": "Tre punti"},
      "geometry": {"type": "Polygon", "coordinates": [[[10.9, 43.7], [10.91, 43.7], [10.9, 43.7]]]}}, "almeno 4", True),
    ({"type": "Feature", "properties": {"name": "Rovesciata"},  # latitude first: off Somalia
      "geometry": {"type": "Polygon", "coordinates": [[[p[1], p[0]] for p in ring(*NEW)]]}}, "fuori dall'Italia", True),
    ({"type": "Feature", "properties": {"name": "Roma"},
      "geometry": {"type": "Polygon", "coordinates": [ring(41.9, 12.5)]}}, "a più di 30 km", True),
    ({"type": "Feature", "properties": {"name": "Farfalla"}, "geometry": {"type": "Polygon", "coordinates": [[
        [10.97, 43.74], [10.99, 43.75], [10.99, 43.74], [10.97, 43.75], [10.97, 43.74]]]}}, "si interseca", True),
    ({"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring(*NEW)]}},
     "Manca il nome", False),
    ({"type": "Feature", "properties": {"name": "Testo"},
      "geometry": {"type": "Polygon", "coordinates": [[["10.9", "43.7"], [10.91, 43.7], [10.91, 43.71],
                                                       ["10.9", "43.7"]]]}}, "coppia di numeri", True),
])
def test_an_invalid_geojson_is_refused_with_a_clear_message_and_nothing_changes(comune, document, italian, outline):
    before = comune.settings()
    body = document if isinstance(document, str) else json.dumps(document)
    answer = comune.call("POST", "/api/v1/settings/hamlets/import", data=body,
                         headers={"Content-Type": "application/geo+json"})
    assert answer.status_code == 422, answer.text
    assert any(italian in d["text"] for d in answer.json()["error"]["details"]), answer.json()
    if outline:  # the same outline saved directly (drawn on the map) is refused too
        hamlet = {"id": "nuova", "name": "Nuova", "geometry": document["geometry"]}
        saved = comune.save("hamlets", [*before["sections"]["hamlets"], hamlet], version=before["version"])
        assert saved.status_code == 422, saved.text
        assert saved.json()["error"]["details"][0]["field"] == "hamlets.1.geometry"
    assert comune.settings() == before | {"version": before["version"]}


def test_a_new_privacy_notice_version_is_recorded_by_the_next_consent(comune):
    def consent_version(phone: str) -> str:
        added = comune.call("POST", "/api/v1/subscribers", json={"channel": comune.broadcast, "phone": phone})
        assert added.status_code in (200, 201), added.text
        ledger = comune.call("GET", f"/api/v1/subscribers/{phone.replace('+', '%2B')}/consents"
                                    f"?channel={comune.broadcast}").json()["items"]
        return ledger[0]["notice_version"]

    assert consent_version("+393477300001") == "v1"
    saved = comune.save("privacy", {"url": "https://example.org/privacy-2027", "version": "2027-01"})
    assert saved.status_code == 200, saved.text
    privacy = saved.json()["sections"]["privacy"]
    assert privacy["version"] == "2027-01" and [h["version"] for h in privacy["history"]] == ["v1", "2027-01"]
    assert privacy["history"][-1]["since"] and privacy["history"][-1]["url"] == "https://example.org/privacy-2027"
    assert consent_version("+393477300002") == "2027-01"
    again = comune.save("privacy", {"url": "https://example.org/privacy-v1", "version": "v1"})
    assert again.status_code == 422 and "già stata usata" in again.json()["error"]["details"][0]["text"]
    change = comune.changes("settings.privacy")[0]
    assert change.before["privacy_notice_version"] == "v1" and change.after["privacy_notice_version"] == "2027-01"


def test_a_channels_knobs_and_texts_are_saved_validated_and_audited(comune):
    path = f"/api/v1/channels/{comune.broadcast}/settings"
    shown = comune.call("GET", path).json()
    assert shown["channel"]["kind"] == "broadcast" and "templates" not in shown["settings"]
    assert shown["settings"]["quiet_hours"] == {"start": None, "end": None, "timezone": "Europe/Rome", "enabled": False}
    welcome = next(t for t in shown["texts"] if t["key"] == "subscribe.confirm_button")
    assert welcome["limit"] == 20 and welcome["override"] is None
    assert not any(t["key"].startswith("report.") for t in shown["texts"])  # the reports channel's texts
    saved = comune.call("PUT", path, json={"version": shown["version"], "settings": {
        "quiet_hours": {"start": "22:00", "end": "07:00"},
        "texts": {"subscribe.welcome": "Benvenuto negli avvisi del {comune}!"}}})
    assert saved.status_code == 200, saved.text
    channel = directory.get_channel(comune.broadcast)
    assert channel.settings.quiet_hours.start == "22:00" and channel.texts["subscribe.welcome"].endswith("{comune}!")
    assert channel.template("notice").name == "avviso_comune"  # the templates stay as they were
    assert channel.texts["auto_reply.reports_hint"] == "Segnalazioni: {reports_number}"  # another kind's text stays
    entry = comune.changes("channel_settings")[0]
    assert entry.target == comune.broadcast and entry.before["quiet_hours"] == {"enabled": False}
    assert entry.after["quiet_hours"] == {"start": "22:00", "end": "07:00"} and "templates" not in entry.after
    version = saved.json()["version"]
    refusals = {
        "quiet_hours": ({"start": "25:00", "end": "07:00"}, "Ora non valida"),
        "texts": ({"subscribe.confirm_button": "Sì, voglio ricevere gli avvisi"}, "al massimo 20 caratteri"),
        "templates": ({}, "non si modifica da qui"),
        "messaging_limit": (0, "minimo è 1"),
    }
    for knob, (value, italian) in refusals.items():
        answer = comune.call("PUT", path, json={"version": version, "settings": {knob: value}})
        assert answer.status_code == 422, answer.text
        assert any(italian in d["text"] for d in answer.json()["error"]["details"]), answer.json()
    for text, italian in (("Ciao {nome}", "Segnaposto sconosciuto {nome}"), ("Ciao {", "Parentesi graffe")):
        answer = comune.call("PUT", path, json={"version": version, "settings": {"texts": {"subscribe.welcome": text}}})
        assert answer.status_code == 422 and italian in answer.json()["error"]["details"][0]["text"], answer.text
    back = comune.call("PUT", path, json={"version": version, "settings": {"texts": {"subscribe.welcome": ""}}})
    assert back.status_code == 200 and "subscribe.welcome" not in directory.get_channel(comune.broadcast).texts
    stale = comune.call("PUT", path, json={"version": shown["version"], "settings": {"messaging_limit": 250}})
    assert stale.status_code == 409
    assert directory.get_channel(comune.broadcast).settings.messaging_limit == 1000
    other = Comune(comune.stack)
    assert comune.call("GET", f"/api/v1/channels/{other.broadcast}/settings").status_code == 404
