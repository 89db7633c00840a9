"""Vicinato, the neighbourhood-watch relay on the safety channel (docs/vicinato.md): joining with the police's approval,
a member's report that reaches only their coordinator, «Avvisa la zona» through the broadcast engine, «Inoltra alla
PL» into the police desk and the police's status back, photos only when asked, the 112 reply first, escalation,
the ID photo's retention, the monthly figures. Every message the sandbox delivered is scanned for numbers and names.

Own comuni (ids vicino<n>, channels 47...), citizen numbers +39 347 76x xxxx."""
from __future__ import annotations

import base64
import io
import itertools
import json
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import requests
from PIL import Image

from chalicelib.domain.tenancy import Channel
from chalicelib.services import clock
from chalicelib.store import directory
from local.runner import Schedule
from local.seed import REPORTS, TEMPLATES, template_setting
from tests.integration.conftest import Phone
from tests.waiting import wait_for

ROME = ZoneInfo("Europe/Rome")
_numbers = itertools.count(1)


def _around_now(inside: bool) -> dict:
    now = datetime.now(ROME)
    start = now - timedelta(hours=1) if inside else now + timedelta(hours=2)
    end = start + timedelta(hours=2 if inside else 1)
    return {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M"), "timezone": "Europe/Rome"}


class Watch:
    """A comune of its own running Vicinato on its safety channel: zones nord (Via Roma) and sud (Via Verdi)."""

    def __init__(self, stack, watched: bool = True, **vicinato):
        n = uuid.uuid4().int % 10**9
        self.stack, self.tenant, self.channel = stack, f"vicino{n}", f"47{n:013d}"
        self.block = next(_numbers) % 10
        self.count = itertools.count(1)
        directory.save_tenant(self.tenant, f"Comune di Vicino {n}", {
            "hamlets": [{"id": "centro", "name": "Centro", "latitude": 43.7, "longitude": 10.9}],
            "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v3", "reports": REPORTS,
            "vicinato": {"enabled": True, "id_required": False, **vicinato, "zones": [
                {"id": "nord", "name": "Nord", "hamlet": "centro", "streets": ["Via Roma"]},
                {"id": "sud", "name": "Sud", "hamlet": "centro", "streets": ["Via Verdi"]}]}})
        directory.save_channel(Channel(self.channel, self.tenant, "safety", "Sicurezza", "+39 0571 947000", {
            "rate_per_second": 200, "registered_only": True, "watched_hours": _around_now(watched),
            "quiet_hours": _around_now(False),
            "templates": {"notice": template_setting("avviso_vicinato"),
                          "vicinato_news": template_setting("novita_vicinato"),
                          "report_update": template_setting("aggiornamento_segnalazione")}}))
        stack.sandbox.add_channel({"phone_number_id": self.channel, "kind": "safety", "tenant": self.tenant,
                                   "templates": TEMPLATES})
        self.tokens = {role: stack.issuer.token(self.tenant, [role])
                       for role in ("police", "admin", "technical", "communications")}

    def call(self, method: str, path: str, role: str = "police", **kwargs) -> requests.Response:
        return requests.request(method, f"{self.stack.api_url}{path}", timeout=30,
                                headers={"Authorization": f"Bearer {self.tokens[role]}"}, **kwargs)

    def phone(self) -> Phone:
        return Phone(self.stack, self.channel, f"+39 347 76{self.block} {next(self.count):04d}")

    def join(self, phone: Phone, name: str, address: str, zone: str, photo: bytes | None = None) -> None:
        """VICINATO on WhatsApp, every answer after the question it answers."""
        step(phone, lambda: phone.text("VICINATO"), "In quale zona abiti")
        step(phone, lambda: phone.tap(f"vic:zone:{zone}", zone.title(), kind="list"), "nome e cognome")
        step(phone, lambda: phone.text(name), "indirizzo di residenza")
        if photo is not None:
            step(phone, lambda: phone.text(address), "documento d'identità")
            step(phone, lambda: send_photo(phone, photo), "Confermi")
        else:
            step(phone, lambda: phone.text(address), "Confermi")
        step(phone, lambda: phone.tap("vic:consent:yes", "Sì, acconsento"), "Richiesta inviata")

    def approve(self, phone: Phone) -> dict:
        answer = self.call("POST", f"/api/v1/vicinato/requests/{self.channel}.{phone.e164}/approve")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def appoint(self, phone: Phone, role: str, zone: str, name: str, address: str) -> dict:
        answer = self.call("POST", "/api/v1/vicinato/coordinators", role="admin", json={
            "zone": zone, "role": role, "phone": phone.number, "name": name, "address": address,
            "prefettura_date": "2026-11-02", "prefettura_ref": "Prot. 77/2026"})
        assert answer.status_code == 201, answer.text
        return answer.json()

    def schedule(self, name: str) -> Schedule:
        return next(t for t in self.stack.threads if isinstance(t, Schedule) and t.config.name == name)


def step(phone: Phone, act, expected: str, timeout: float = 15) -> dict:
    """Do something on the phone and wait for the app's answer that contains expected (a new message)."""
    before = len(phone.inbox())
    act()
    return wait_for(lambda: next((m for m in phone.inbox()[before:] if expected in (m.get("text") or "")), None),
                    timeout)


def seen(phone: Phone, expected: str, timeout: float = 15) -> dict:
    """The newest message to the phone that contains expected, whenever it came."""
    return wait_for(lambda: next((m for m in reversed(phone.inbox()) if expected in (m.get("text") or "")), None),
                    timeout)


def button_ids(message: dict) -> list[str]:
    action = (message.get("body") or {}).get("interactive", {}).get("action", {})
    ids = [b["reply"]["id"] for b in action.get("buttons", [])]
    ids += [row["id"] for section in action.get("sections", []) for row in section.get("rows", [])]
    return ids


def case_id_of(phone: Phone) -> str:
    ids = [i for m in phone.inbox() for i in button_ids(m) if i.startswith("vic:fwd:")]
    assert ids, phone.inbox()
    return ids[-1].removeprefix("vic:fwd:")


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "gray").save(out, "JPEG")
    return out.getvalue()


def send_photo(phone: Phone, data: bytes) -> dict:
    return phone.send(type="image", image_base64=base64.b64encode(data).decode(), mime_type="image/jpeg")


def report(member: Phone, what: str, where: str, when: str = "vic:when:recent", description: str = "Nessuna") -> None:
    step(member, lambda: member.text(what), "Dove?")
    step(member, lambda: member.text(where), "Quando è successo")
    step(member, lambda: member.tap(when, "Poco fa"), "veicolo o una persona")
    if description == "Nessuna":
        step(member, lambda: member.tap("vic:desc:none", "Nessuna"), "Grazie")
    else:
        step(member, lambda: member.text(description), "Grazie")


def scan_for_identities(watch: Watch, people: dict[str, Phone]) -> None:
    """No message the sandbox delivered on the channel carries a citizen's number or name (but their own)."""
    sent = requests.get(f"{watch.stack.sandbox_url}/_sandbox/messages", params={"channel": watch.channel},
                        timeout=10).json()
    assert sent
    for message in sent:
        shown = (message.get("text") or "") + json.dumps(message.get("body") or {}, ensure_ascii=False)
        digits = re.sub(r"\D", "", shown)
        for name, phone in people.items():
            if phone.e164 == "+" + re.sub(r"\D", "", message["to"]):
                continue  # a message to that person may name them (their own welcome, say)
            assert phone.e164[1:] not in digits and phone.e164[3:] not in digits, (name, message["text"])
            assert name not in shown and name.split()[1] not in shown, (name, message["text"])


def test_a_report_reaches_only_the_coordinator_and_avvisa_la_zona_only_the_zone(stack):
    watch = Watch(stack)
    coordinator = watch.phone()
    appointed = watch.appoint(coordinator, "coordinator", "nord", "Carla Fontana", "Via Roma 3")
    assert appointed["handle"] == "Vicino 1 · Via Roma" and appointed["prefettura"]["reference"] == "Prot. 77/2026"
    members = {name: watch.phone() for name in ("Lucia Ferri", "Paolo Gatti", "Sara Conti", "Enzo Bassi")}
    zones = {"Lucia Ferri": "nord", "Paolo Gatti": "nord", "Sara Conti": "nord", "Enzo Bassi": "sud"}
    streets = {"nord": "Via Roma", "sud": "Via Verdi"}
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda name: watch.join(members[name], name, f"{streets[zones[name]]} {len(name)}",
                                              zones[name]), members))

    pending = watch.call("GET", "/api/v1/vicinato/requests").json()["items"]
    assert sorted(p["name"] for p in pending) == sorted(members)
    assert watch.call("GET", "/api/v1/vicinato/requests", role="admin").status_code == 403
    for name, phone in members.items():
        approved = watch.approve(phone)
        assert approved["status"] == "active" and approved["handle"].endswith(streets[zones[name]])
        wait_for(lambda phone=phone: any("Benvenuto" in (m.get("text") or "") for m in phone.inbox()))

    lucia, others = members["Lucia Ferri"], [members[n] for n in ("Paolo Gatti", "Sara Conti", "Enzo Bassi")]
    report(lucia, "Furgone bianco fermo da due ore davanti alle scuole", "Via Roma angolo Via Dante",
           description="Furgone bianco senza insegne")
    # the coordinator never wrote: outside the 24-hour window the news template, whose tap brings the report
    news = wait_for(lambda: next((m for m in coordinator.inbox() if m["type"] == "template"), None))
    assert "Controllo del Vicinato" in news["text"]
    step(coordinator, lambda: coordinator.tap("vic:news", "Leggi", kind="quick_reply"), "Nuova segnalazione da Vicino")
    case_message = next(m for m in coordinator.inbox() if "Nuova segnalazione" in (m.get("text") or ""))
    assert "Furgone bianco fermo" in case_message["text"] and "Vicino 2" in case_message["text"]
    titles = [b["reply"]["title"] for b in case_message["body"]["interactive"]["action"]["buttons"]]
    assert titles == ["Inoltra alla PL", "Avvisa la zona", "Archivia"]
    case = case_id_of(coordinator)
    for phone in others:
        assert not any("Furgone" in (m.get("text") or "") for m in phone.inbox())

    step(coordinator, lambda: coordinator.tap(f"vic:zone:{case}", "Avvisa la zona"), "testo dell'avviso")
    step(coordinator, lambda: coordinator.tap(f"vic:asis:{case}", "Invia com'è"), "Avviso inviato ai membri")
    zone_members = [lucia, members["Paolo Gatti"], members["Sara Conti"]]
    for phone in zone_members:
        wait_for(lambda phone=phone: any("Avviso del Controllo del Vicinato - zona Nord" in (m.get("text") or "")
                                         for m in phone.inbox()))
    everyone = [*zone_members, members["Enzo Bassi"], coordinator]
    counts = [sum("zona Nord:\nFurgone" in (m.get("text") or "") for m in p.settle(0.5)) for p in everyone]
    assert counts == [1, 1, 1, 0, 0]

    # the police warn every zone at once; an alert passes the quiet hours
    answer = watch.call("POST", "/api/v1/vicinato/notices", json={
        "zones": ["*"], "text": "Truffe agli anziani in corso: non aprite a finti tecnici", "priority": "alert"})
    assert answer.status_code == 201, answer.text
    for phone in everyone:
        wait_for(lambda phone=phone: any("finti tecnici" in (m.get("text") or "") for m in phone.inbox()))
    assert watch.call("POST", "/api/v1/vicinato/notices", json={"zones": ["marte"], "text": "x"}).status_code == 422

    scan_for_identities(watch, {**members, "Carla Fontana": coordinator})

    month = watch.call("GET", "/api/v1/vicinato/report").json()
    rows = {row["zone"]: row for row in month["zones"]}
    assert {k: rows["nord"][k] for k in ("members", "joined", "reports", "notified", "forwarded", "police_notices")} \
        == {"members": 4, "joined": 4, "reports": 1, "notified": 1, "forwarded": 0, "police_notices": 1}
    assert {k: rows["sud"][k] for k in ("members", "joined", "reports", "police_notices")} == \
        {"members": 1, "joined": 1, "reports": 0, "police_notices": 1}
    exported = watch.call("GET", "/api/v1/vicinato/report/export", role="admin")
    assert exported.status_code == 200 and "segnalazioni" in exported.text.splitlines()[0]

    step(members["Paolo Gatti"], lambda: members["Paolo Gatti"].text("ESCI VICINATO"), "Sei uscito")
    counts = {p["status"] for p in watch.call("GET", "/api/v1/vicinato/people", params={"zone": "nord"}).json()["items"]
              if p["name"] == "Paolo Gatti"}
    assert counts == {"left"}


def test_forwarded_report_reaches_the_police_desk_only_and_their_status_comes_back(stack):
    watch = Watch(stack)
    coordinator, member = watch.phone(), watch.phone()
    watch.appoint(coordinator, "coordinator", "nord", "Carla Fontana", "Via Roma 3")
    watch.join(member, "Lucia Ferri", "Via Roma 9", "nord")
    watch.approve(member)
    step(coordinator, lambda: coordinator.text("buongiorno"), "Sei coordinatore")  # inside the window from now on

    # a photo before anyone asked for one: refused politely, not stored
    step(member, lambda: send_photo(member, jpeg()), "non è stato salvato")
    report(member, "Due persone provano le maniglie delle auto", "Via Roma 20")
    seen(coordinator, "Nuova segnalazione da Vicino")
    case = case_id_of(coordinator)
    step(coordinator, lambda: coordinator.tap(f"vic:pic:{case}", "Chiedi una foto"), "Richiesta inviata")
    wait_for(lambda: any("ti chiede una foto" in (m.get("text") or "") for m in member.inbox()))
    step(member, lambda: send_photo(member, jpeg()), "Foto ricevuta")
    link = seen(coordinator, "Foto della segnalazione di Vicino")
    url = re.search(r"https?://\S+", link["text"]).group(0)
    assert requests.get(url, timeout=10).content[:2] == b"\xff\xd8"  # the JPEG, through a short-lived link
    cases = watch.call("GET", "/api/v1/vicinato/cases").json()["items"]
    assert [len(c["photos"]) for c in cases] == [1]  # the refused one was never kept

    step(coordinator, lambda: coordinator.tap(f"vic:fwd:{case}", "Inoltra alla PL"), "nota per la Polizia")
    done = step(coordinator, lambda: coordinator.text("Li ho visti anche io, verso le 22"), "Inoltrata alla Polizia")
    number = re.search(r"n\. (\d{4}/\d+)", done["text"]).group(1)
    wait_for(lambda: any("passato la tua segnalazione" in (m.get("text") or "") for m in member.inbox()))

    tips = watch.call("GET", "/api/v1/reports", params={"kind": "safety"}).json()["items"]
    [tip] = [t for t in tips if t["number"] == number]
    detail = watch.call("GET", f"/api/v1/reports/{tip['id']}").json()
    assert detail["source"] == "vicinato" and "zona Nord" in detail["text"] and "verso le 22" in detail["text"]
    assert detail["events"][0]["data"]["zone"] == "nord" and len(detail["photos"]) == 1
    assert json.dumps(detail).count("Lucia Ferri") >= 1  # the member's identity, for the police
    for role in ("admin", "technical"):  # offices that read reports: to them a tip does not exist
        assert watch.call("GET", f"/api/v1/reports/{tip['id']}", role=role).status_code == 404, role
    # communications reads no report at all: refused before any report is looked up
    assert watch.call("GET", f"/api/v1/reports/{tip['id']}", role="communications").status_code == 403
    for role in ("admin", "technical", "communications"):
        assert watch.call("GET", "/api/v1/vicinato/cases", role=role).status_code == 403, role

    answer = watch.call("POST", f"/api/v1/reports/{tip['id']}/transitions", json={"to": "triaged"})
    assert answer.status_code == 200, answer.text
    news = seen(coordinator, "presa in carico dalla Polizia Locale")
    assert number in news["text"] and "Lucia" not in news["text"]
    watch.call("POST", f"/api/v1/reports/{tip['id']}/transitions", json={"to": "in_progress"})
    seen(coordinator, "pattuglia inviata")

    # a second report is archived with a reason; a tap after that changes nothing
    report(member, "Rumori forti dal parco", "Parco di Via Roma")
    wait_for(lambda: len([i for m in coordinator.inbox() for i in button_ids(m) if i.startswith("vic:fwd:")]) == 2)
    second = case_id_of(coordinator)
    reasons = step(coordinator, lambda: coordinator.tap(f"vic:arc:{second}", "Archivia"), "Perché la archivi")
    assert len(button_ids(reasons)) == 5
    step(coordinator, lambda: coordinator.tap(f"vic:why:{second}:not_relevant", "Non rilevante"), "archiviata")
    step(coordinator, lambda: coordinator.tap(f"vic:fwd:{second}", "Inoltra alla PL"), "già stata gestita")

    rows = {r["zone"]: r for r in watch.call("GET", "/api/v1/vicinato/report").json()["zones"]}
    assert {k: rows["nord"][k] for k in ("reports", "forwarded", "archived", "notified")} == \
        {"reports": 2, "forwarded": 1, "archived": 1, "notified": 0}
    assert rows["nord"]["median_minutes_to_forward"] is not None


def test_an_emergency_word_gets_the_112_reply_first_and_the_police_an_urgent_report(stack):
    watch = Watch(stack)
    coordinator, member = watch.phone(), watch.phone()
    watch.appoint(coordinator, "coordinator", "nord", "Carla Fontana", "Via Roma 3")
    watch.join(member, "Lucia Ferri", "Via Roma 9", "nord")
    watch.approve(member)
    step(coordinator, lambda: coordinator.text("buongiorno"), "Sei coordinatore")
    seen(member, "Benvenuto")
    before = len(member.inbox())
    member.text("Stanno entrando dalla finestra dei vicini, andiamo a prenderli")
    replies = wait_for(lambda: (lambda new: new if len(new) >= 3 else None)(member.inbox()[before:]))
    assert "chiama SUBITO il 112" in replies[0]["text"]
    assert "solo osservazione" in replies[1]["text"]  # and the reminder: observation only
    assert replies[-1]["time"] - replies[0]["time"] < 1.0  # one reply job: the same second
    step(member, lambda: member.text("Via Roma 9"), "Quando")
    step(member, lambda: member.tap("vic:when:urgent", "È urgente"), "veicolo o una persona")
    step(member, lambda: member.tap("vic:desc:none", "Nessuna"), "direttamente alla Polizia Locale")
    tip = wait_for(lambda: watch.call("GET", "/api/v1/reports", params={"kind": "safety"}).json()["items"])[0]
    detail = watch.call("GET", f"/api/v1/reports/{tip['id']}").json()
    assert detail["events"][0]["data"]["urgent"] is True and "URGENTE" in detail["text"]
    wait_for(lambda: any("URGENTE" in (m.get("text") or "") for m in coordinator.inbox()))


def test_a_coordinator_who_does_not_act_in_time_passes_it_to_the_stand_in_then_the_police(stack, monkeypatch):
    watch = Watch(stack, coordinator_minutes=30, stand_in_minutes=20)
    coordinator, stand_in, member = watch.phone(), watch.phone(), watch.phone()
    watch.appoint(coordinator, "coordinator", "nord", "Carla Fontana", "Via Roma 3")
    watch.appoint(stand_in, "stand_in", "nord", "Marco Vitale", "Via Roma 5")
    step(stand_in, lambda: stand_in.text("ciao"), "Sei coordinatore")
    watch.join(member, "Lucia Ferri", "Via Roma 9", "nord")
    watch.approve(member)
    report(member, "Auto sospetta che gira in tondo", "Via Roma")
    wait_for(lambda: any(m["type"] == "template" for m in coordinator.inbox()))
    escalate = watch.schedule("escalate_vicinato_reports")
    start = datetime.now(UTC)

    monkeypatch.setattr(clock, "now", lambda: start + timedelta(minutes=29))
    escalate.fire()
    assert not any("in attesa" in (m.get("text") or "") for m in stand_in.inbox())
    monkeypatch.setattr(clock, "now", lambda: start + timedelta(minutes=31))
    escalate.fire()
    escalate.fire()  # a second run finds it moved: once only
    seen(stand_in, "il coordinatore non ha risposto in tempo")
    assert [i for m in stand_in.inbox() for i in button_ids(m) if i.startswith("vic:fwd:")]
    assert sum("non ha risposto in tempo" in (m.get("text") or "") for m in stand_in.settle(0.5)) == 1
    assert watch.call("GET", "/api/v1/reports", params={"kind": "safety"}).json()["items"] == []

    monkeypatch.setattr(clock, "now", lambda: start + timedelta(minutes=52))
    escalate.fire()
    escalate.fire()
    tips = wait_for(lambda: watch.call("GET", "/api/v1/reports", params={"kind": "safety"}).json()["items"])
    assert len(tips) == 1 and tips[0]["source"] == "vicinato"
    [case] = watch.call("GET", "/api/v1/vicinato/cases").json()["items"]
    assert (case["status"], case["stage"]) == ("forwarded", "referent")
    assert [e["data"]["to"] for e in case["events"] if e["action"] == "escalated"] == ["stand_in", "referent"]
    rows = {r["zone"]: r for r in watch.call("GET", "/api/v1/vicinato/report").json()["zones"]}
    assert rows["nord"]["escalated"] == 1


def test_joining_with_an_id_photo_the_police_approve_and_the_photo_is_gone_after_retention(stack, monkeypatch):
    watch = Watch(stack, id_required=True, id_photo_days=0, messages_per_hour=5)
    member = watch.phone()
    watch.join(member, "Lucia Ferri", "Via Verdi 14, scala B", "sud", photo=jpeg())
    [pending] = watch.call("GET", "/api/v1/vicinato/requests").json()["items"]
    assert (pending["name"], pending["address"], pending["id_photo"], pending["zone"]) == \
        ("Lucia Ferri", "Via Verdi 14, scala B", True, "sud")
    person = f"{watch.channel}.{member.e164}"
    link = watch.call("GET", f"/api/v1/vicinato/people/{person}/id-photo").json()["url"]
    assert requests.get(link, timeout=10).status_code == 200
    assert watch.call("GET", f"/api/v1/vicinato/people/{person}/id-photo", role="admin").status_code == 403
    consents = watch.call("GET", f"/api/v1/subscribers/{member.e164}/consents", params={"channel": watch.channel})
    assert [(c["purpose"], c["action"], c["notice_version"]) for c in consents.json()["items"]] == \
        [("vicinato", "grant", "v3")]

    approved = watch.approve(member)
    assert approved["handle"] == "Vicino 1 · Via Verdi"  # no house number, nothing after it
    welcome = seen(member, "Benvenuto")
    assert "Vicino 1 · Via Verdi" in welcome["text"]

    sweep = watch.schedule("sweep_vicinato_photos")
    monkeypatch.setattr(clock, "now", lambda: datetime.now(UTC) + timedelta(minutes=1))
    sweep.fire()
    assert watch.call("GET", f"/api/v1/vicinato/people/{person}/id-photo").status_code == 404
    assert requests.get(link, timeout=10).status_code == 404  # the object itself is gone
    monkeypatch.undo()

    # a flood is slowed down: told once, the rest not taken
    before = len(member.inbox())
    for n in range(7):
        member.text(f"messaggio {n}")
    seen(member, "molti messaggi", timeout=30)
    texts = [m["text"] or "" for m in member.settle(1.0)[before:]]
    assert sum("molti messaggi" in t for t in texts) == 1

    step(member, lambda: member.text("ESCI VICINATO"), "Sei uscito")
    step(member, lambda: member.text("Auto sospetta"), "riservato ai residenti registrati")


def test_outside_the_watched_hours_a_member_learns_when_it_is_read_and_the_privacy_desk_covers_vicinato(stack):
    watch = Watch(stack, watched=False, id_required=True)
    member = watch.phone()
    watch.join(member, "Lucia Ferri", "Via Roma 9", "nord", photo=jpeg())
    watch.approve(member)
    seen(member, "Benvenuto")
    report(member, "Cancello del parco forzato", "Via Roma")
    assert "sarà letta dalle" in seen(member, "presidiata dalle")["text"]  # no coordinator: straight to the police

    exported = watch.call("GET", "/api/v1/privacy/export", role="admin", params={"phone": member.e164}).json()
    assert [(p["name"], p["zone"], p["status"]) for p in exported["vicinato"]["people"]] == \
        [("Lucia Ferri", "nord", "active")]
    assert exported["vicinato"]["reports"] == []  # what they reported is the police's: not in an admin's export
    erased = watch.call("POST", "/api/v1/privacy/erase", role="admin", json={"phone": member.e164})
    assert erased.status_code == 200, erased.text
    assert erased.json()["vicinato_records_deleted"] == 2  # the membership (and its ID photo) and the report
    person = f"{watch.channel}.{member.e164}"
    assert watch.call("GET", f"/api/v1/vicinato/people/{person}/id-photo").status_code == 404
    assert watch.call("GET", "/api/v1/vicinato/cases").json()["items"] == []
    assert watch.call("GET", "/api/v1/vicinato/people").json()["items"] == []
