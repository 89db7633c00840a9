"""Vicinato on the police's Sicurezza desk (what the console's inbox and detail read): a report a coordinator forwarded
carries its zone, the list filters by it (zone=), and list and detail show the zone, the member's handle, the
coordinator's note and the urgent flag; the police's statuses reach the coordinator.

Own comuni (ids vicweb<n>, channels 48...), citizen numbers +39 347 78x xxxx."""
from __future__ import annotations

import itertools
import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests

from chalicelib.domain.tenancy import Channel
from chalicelib.store import directory
from local.seed import REPORTS, TEMPLATES
from tests.integration.conftest import Phone
from tests.waiting import wait_for

ROME = ZoneInfo("Europe/Rome")
_blocks = itertools.count()


def _watched_now() -> dict:
    now = datetime.now(ROME)
    return {"start": (now - timedelta(hours=1)).strftime("%H:%M"), "end": (now + timedelta(hours=1)).strftime("%H:%M"),
            "timezone": "Europe/Rome"}


class Watch:
    """A comune of its own running Vicinato on its safety channel: zones nord and sud, no ID photo asked."""

    def __init__(self, stack):
        n = uuid.uuid4().int % 10**9
        self.stack, self.tenant, self.channel = stack, f"vicweb{n}", f"48{n:013d}"
        self.block, self.count = next(_blocks) % 10, itertools.count(1)
        directory.save_tenant(self.tenant, f"Comune di Vicweb {n}", {
            "hamlets": [{"id": "centro", "name": "Centro", "latitude": 43.7, "longitude": 10.9}],
            "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v2", "reports": REPORTS,
            "vicinato": {"enabled": True, "id_required": False, "zones": [
                {"id": "nord", "name": "Nord", "hamlet": "centro", "streets": ["Via Roma"]},
                {"id": "sud", "name": "Sud", "hamlet": "centro", "streets": ["Via Verdi"]}]}})
        directory.save_channel(Channel(self.channel, self.tenant, "safety", "Sicurezza", "+39 0571 948000", {
            "rate_per_second": 200, "registered_only": True, "watched_hours": _watched_now()}))
        stack.sandbox.add_channel({"phone_number_id": self.channel, "kind": "safety", "tenant": self.tenant,
                                   "templates": TEMPLATES})
        self.tokens = {role: stack.issuer.token(self.tenant, [role]) for role in ("police", "admin", "technical")}

    def call(self, method: str, path: str, role: str = "police", **kwargs) -> requests.Response:
        return requests.request(method, f"{self.stack.api_url}{path}", timeout=30,
                                headers={"Authorization": f"Bearer {self.tokens[role]}"}, **kwargs)

    def number(self) -> str:
        return f"+39 347 78{self.block} {next(self.count):04d}"


def step(phone: Phone, act, expected: str) -> str:
    """Send one answer, then wait for the reply that asks the next question (the relay keeps one step at a time)."""
    seen = len(phone.inbox())
    act()
    return wait_for(lambda: next((m.get("text") or "" for m in phone.inbox()[seen:]
                                  if re.search(expected, _body(m))), None), 15)


def _body(message: dict) -> str:
    return " ".join(str(v) for v in (message.get("text"), message.get("body"), message.get("interactive")) if v)


def join(watch: Watch, phone: Phone, name: str, address: str, zone: str = "nord", approve: bool = True) -> dict:
    """VICINATO on WhatsApp, each answer after its question; then the police approve the request (the console's
    call). The request as the police listed it."""
    step(phone, lambda: phone.text("VICINATO"), "In quale zona abiti")
    step(phone, lambda: phone.tap(f"vic:zone:{zone}", zone.title(), kind="list"), "nome e cognome")
    step(phone, lambda: phone.text(name), "indirizzo di residenza")
    step(phone, lambda: phone.text(address), "informativa")
    step(phone, lambda: phone.tap("vic:consent:yes", "Accetto"), "Richiesta inviata")
    request = next(r for r in watch.call("GET", "/api/v1/vicinato/requests").json()["items"] if r["name"] == name)
    assert (request["address"], request["zone"]) == (address, zone)
    if approve:
        assert watch.call("POST", f"/api/v1/vicinato/requests/{request['id']}/approve").status_code == 200
    return request


def test_a_forwarded_report_is_on_the_desk_by_zone_with_the_coordinators_note_and_the_status_goes_back(stack):
    watch = Watch(stack)
    coordinator_number = watch.number()
    appointed = watch.call("POST", "/api/v1/vicinato/coordinators", role="admin", json={
        "zone": "nord", "role": "coordinator", "phone": coordinator_number, "name": "Carla Neri",
        "address": "Via Roma 1", "prefettura_date": "2026-11-02", "prefettura_ref": "Prot. 77/2026"})
    assert appointed.status_code == 201, appointed.text
    coordinator = Phone(stack, watch.channel, coordinator_number)

    member = Phone(stack, watch.channel, watch.number())
    join(watch, member, "Anna Bianchi", "Via Roma 12")

    step(member, lambda: member.text("Furgone bianco che gira piano davanti alle case"), "Dove")
    step(member, lambda: member.text("Via Roma"), "Quando")
    step(member, lambda: member.tap("vic:when:now", "Adesso"), "veicolo o una persona")
    seen = len(coordinator.inbox())
    step(member, lambda: member.tap("vic:desc:none", "Nessuna"), "inviata al coordinatore")
    wait_for(lambda: any("Furgone bianco" in _body(m) for m in coordinator.inbox()[seen:]), 15)
    case = watch.call("GET", "/api/v1/vicinato/cases").json()["items"][0]
    step(coordinator, lambda: coordinator.tap(f"vic:fwd:{case['id']}", "Inoltra alla PL"), "nota")
    step(coordinator, lambda: coordinator.text("Visto anche da me ieri sera"), "Inoltrata alla Polizia")

    in_nord = watch.call("GET", "/api/v1/reports", params={"kind": "safety", "zone": "nord"}).json()["items"]
    assert len(in_nord) == 1
    origin = in_nord[0]["vicinato"]
    assert origin["zone"] == "nord" and origin["zone_name"] == "Nord"
    assert origin["note"] == "Visto anche da me ieri sera" and origin["urgent"] is False
    assert origin["handle"].startswith("Vicino ") and "Via Roma" in origin["handle"] and "12" not in origin["handle"]
    assert watch.call("GET", "/api/v1/reports", params={"kind": "safety", "zone": "sud"}).json()["items"] == []
    # the detail the console opens: the origin and the member's identity, for the police only
    detail = watch.call("GET", f"/api/v1/reports/{in_nord[0]['id']}").json()
    assert detail["vicinato"]["note"] == "Visto anche da me ieri sera"
    assert detail["resident"]["name"] == "Anna Bianchi"
    assert watch.call("GET", f"/api/v1/reports/{in_nord[0]['id']}", role="admin").status_code == 404
    assert watch.call("GET", "/api/v1/reports", role="technical",
                      params={"kind": "safety", "zone": "nord"}).status_code in (403, 404)

    # «presa in carico», then «pattuglia inviata» on the desk reach the coordinator in the police's words
    for to, words in (("triaged", "presa in carico"), ("in_progress", "pattuglia inviata")):
        seen = len(coordinator.inbox())
        moved = watch.call("POST", f"/api/v1/reports/{in_nord[0]['id']}/transitions", json={"to": to, "public": False})
        assert moved.status_code == 200, moved.text
        wait_for(lambda words=words, seen=seen: any(words in _body(m) for m in coordinator.inbox()[seen:]), 15)


def test_the_administration_chooses_a_coordinator_among_the_zones_members_by_handle_only(stack):
    watch = Watch(stack)
    member = join(watch, Phone(stack, watch.channel, watch.number()), "Bruno Verdi", "Via Roma 40")
    waiting = join(watch, Phone(stack, watch.channel, watch.number()), "Ada Gialli", "Via Roma 41", approve=False)

    # the administration reads the zone's members by handle: never a name, an address or a number
    listed = watch.call("GET", "/api/v1/vicinato/people", role="admin", params={"zone": "nord"}).json()["items"]
    assert [(p["id"], p["role"], p["status"]) for p in listed] == [(member["id"], "member", "active")]
    assert listed[0]["handle"].startswith("Vicino ") and "Via Roma" in listed[0]["handle"]
    assert not any(listed[0].get(k) for k in ("name", "address", "phone", "id_photo"))

    path = f"/api/v1/vicinato/people/{member['id']}/appointment"
    body = {"role": "coordinator", "prefettura_date": "2026-11-20", "prefettura_ref": "Prot. 55/2026"}
    for role in ("police", "technical"):
        assert watch.call("POST", path, role=role, json=body).status_code == 403
    refused = watch.call("POST", f"/api/v1/vicinato/people/{waiting['id']}/appointment", role="admin", json=body)
    assert refused.status_code == 422 and "membro attivo" in refused.json()["error"]["message"]
    assert watch.call("POST", path, role="admin", json={**body, "role": "boss"}).status_code == 422
    assert watch.call("POST", f"/api/v1/vicinato/people/{watch.channel}.+390000000000/appointment", role="admin",
                      json=body).status_code == 404

    appointed = watch.call("POST", path, role="admin", json=body)
    assert appointed.status_code == 201, appointed.text
    assert (appointed.json()["role"], appointed.json()["name"]) == ("coordinator", "Bruno Verdi")
    nord = next(z for z in watch.call("GET", "/api/v1/vicinato/zones", role="admin").json()["items"] if z["id"] == "nord")
    assert nord["coordinator"] == {"handle": listed[0]["handle"], "prefettura_date": "2026-11-20",
                                   "prefettura_ref": "Prot. 55/2026"}


def test_a_zones_police_referent_is_chosen_among_the_enabled_police_staff(stack):
    watch = Watch(stack)
    ids = {}
    for name, roles in (("Vera Vigile", ["police"]), ("Tito Tecnico", ["technical"])):
        invited = watch.call("POST", "/api/v1/staff", role="admin", json={
            "name": name, "email": f"{name.split()[0].lower()}.{watch.tenant}@comune.example", "roles": roles})
        assert invited.status_code == 201, invited.text
        ids[name] = invited.json()["id"]
    assert watch.call("GET", "/api/v1/vicinato/referents", role="admin").json()["items"] == [
        {"id": ids["Vera Vigile"], "name": "Vera Vigile"}]
    for role in ("police", "technical"):
        assert watch.call("GET", "/api/v1/vicinato/referents", role=role).status_code == 403
    # a disabled one is not offered
    assert watch.call("PATCH", f"/api/v1/staff/{ids['Vera Vigile']}", role="admin",
                      json={"enabled": False}).status_code == 200
    assert watch.call("GET", "/api/v1/vicinato/referents", role="admin").json()["items"] == []
