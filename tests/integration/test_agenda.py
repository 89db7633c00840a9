"""The agenda (issue 17) through the webhook, the sandbox, the API and the app's schedule: booking on WhatsApp end to
end, the same slot no longer offered, the reminder when the scheduler runs at its time, «Disdico» freeing the slot for
another citizen; 30 citizens racing for one slot; the portal's API and the signed link; a staff closure of a day.

Time moves through the app's clock seam (chalicelib/services/clock.py), never by sleeping: Friday 4 December 2026,
10:00 in Rome; Tuesday 8 is the Immacolata. Citizen numbers of this file: +39 347 78x xxxx."""
from __future__ import annotations

import itertools
import re
import threading
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from chalicelib.domain.tenancy import Channel
from chalicelib.services import clock
from chalicelib.store import agenda as store
from chalicelib.store import directory
from chalicelib.store.models import AgendaPersonModel
from local.runner import Schedule
from local.seed import AGENDA, TEMPLATES, template_setting
from tests.integration.conftest import Phone
from tests.waiting import wait_for

ROME = ZoneInfo("Europe/Rome")
_numbers = itertools.count(1)


def rome(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=ROME)


class Clock:
    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch

    def set(self, day: str, hour: int, minute: int = 0) -> None:
        moment = rome(day, hour, minute)
        self.monkeypatch.setattr(clock, "now", lambda: moment)


class AgendaLine:
    """A comune of its own with the demo's police agenda, booked on its safety line (unique ids)."""

    def __init__(self, stack, agenda: dict | None = None):
        n = uuid.uuid4().int % 10**9
        self.stack, self.tenant, self.channel = stack, f"agenda{n}", f"47{n:013d}"
        directory.save_tenant(self.tenant, f"Comune di Agenda {n}", {
            "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v1",
            "agenda": agenda or AGENDA})
        directory.save_channel(Channel(self.channel, self.tenant, "safety", "Sicurezza", "+39 0571 970000", {
            "rate_per_second": 200, "registered_only": True, "agenda_booking": True,
            "templates": {"agenda_reminder": template_setting("promemoria_appuntamento"),
                          "agenda_update": template_setting("aggiornamento_appuntamento")}}))
        stack.sandbox.add_channel({"phone_number_id": self.channel, "kind": "safety", "tenant": self.tenant,
                                   "templates": TEMPLATES})
        self.tokens = {role: stack.issuer.token(self.tenant, [role]) for role in ("police", "technical", "admin")}

    def call(self, method: str, path: str, role: str = "police", **kwargs) -> requests.Response:
        return requests.request(method, f"{self.stack.api_url}{path}", timeout=30,
                                headers={"Authorization": f"Bearer {self.tokens[role]}"}, **kwargs)

    def public(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.stack.api_url}/public/v1/{self.tenant}/agenda{path}", timeout=30,
                                **kwargs)

    def phone(self) -> Phone:
        return Phone(self.stack, self.channel, f"+39 347 78{next(_numbers) % 10} {uuid.uuid4().int % 10000:04d}")


def after(phone: Phone, seen: int, predicate, timeout: float = 15) -> dict:
    """The first message to the phone after the first `seen` ones that matches."""
    return wait_for(lambda: next((m for m in phone.inbox()[seen:] if predicate(m)), None), timeout)


def with_option(prefix: str):
    return lambda m: any(o["id"].startswith(prefix) for o in m.get("options") or [])


def with_text(pattern: str):
    return lambda m: re.search(pattern, m.get("text") or "") is not None


def option(message: dict, prefix: str, index: int = 0) -> dict:
    return [o for o in message["options"] if o["id"].startswith(prefix)][index]


def book_on_whatsapp(phone: Phone, service: str, name: str = "Mario Rossi", day_index: int = 0,
                     time_index: int = 0) -> tuple[str, str, dict]:
    """PRENOTA -> service -> day -> time -> name -> Conferma: the code, the start and the confirmation."""
    seen = len(phone.inbox())
    phone.text("PRENOTA")
    services = after(phone, seen, with_option("ag:s:"))
    assert len(services["options"]) <= 10
    row = option(services, f"ag:s:{service}")
    seen = len(phone.inbox())
    phone.tap(row["id"], row["title"], kind="list")
    days = after(phone, seen, with_option(f"ag:d:{service}:"))
    row = option(days, "ag:d:", day_index)
    seen = len(phone.inbox())
    phone.tap(row["id"], row["title"], kind="list")
    times = after(phone, seen, with_option(f"ag:t:{service}:"))
    row = option(times, "ag:t:", time_index)
    start = row["id"].split(":", 3)[3]
    seen = len(phone.inbox())
    phone.tap(row["id"], row["title"], kind="list")
    after(phone, seen, with_text("nome e cognome"))
    seen = len(phone.inbox())
    phone.text(name)
    summary = after(phone, seen, with_option("ag:ok:"))
    seen = len(phone.inbox())
    phone.tap(option(summary, "ag:ok:")["id"], "Conferma")
    booked = after(phone, seen, with_text(r"Codice [A-Z0-9]{6}"))
    return re.search(r"Codice ([A-Z0-9]{6})", booked["text"]).group(1), start, booked


@pytest.fixture
def the_clock(monkeypatch):
    moment = Clock(monkeypatch)
    moment.set("2026-12-04", 10)
    return moment


def reminders(stack) -> Schedule:
    return next(t for t in stack.threads if isinstance(t, Schedule) and t.config.name == "send_agenda_reminders")


def test_booking_on_whatsapp_end_to_end_reminder_and_disdico_frees_the_slot(stack, the_clock):
    line = AgendaLine(stack)
    anna = line.phone()
    code, start, booked = book_on_whatsapp(anna, "incidente", name="Anna Bianchi")
    # incidente: counter 1 only; Monday is walk-in, Tuesday 8 the Immacolata: Wednesday 9 is the first day
    assert start == "2026-12-09T08:30"
    text = booked["text"]
    assert "Copia rapporto incidente stradale" in text and "marca da bollo" in text and "mercoledì 9 dicembre" in text
    ics_url = re.search(r"calendario: (\S+)", text).group(1)
    manage = re.search(r"disdirla: (\S+)", text).group(1)
    ics = requests.get(ics_url, timeout=10)
    assert ics.status_code == 200 and ics.headers["Content-Type"].startswith("text/calendar")
    assert "DTSTART:20261209T073000Z" in ics.text and f"UID:{code}-" in ics.text and "Anna" not in ics.text
    assert f"/agenda/{line.tenant}/" in manage  # the portal's page of the booking (make dev has a portal)
    shown = line.public("GET", f"/b/{manage.rsplit('/', 1)[1]}").json()
    assert (shown["code"], shown["status"], shown["start"], shown["name"]) == (code, "booked", start, "Anna Bianchi")

    # the same slot is no longer offered to anyone
    assert start not in [t["start"] for t in line.public("GET", "/services/incidente/slots",
                                                         params={"day": "2026-12-09"}).json()["items"]]
    bruno = line.phone()
    seen = len(bruno.inbox())
    bruno.text("PRENOTA")
    bruno.tap("ag:d:incidente:2026-12-09", "mercoledì 9 dicembre", kind="list")
    times = after(bruno, seen, with_option("ag:t:incidente:"))
    assert f"ag:t:incidente:{start}" not in [o["id"] for o in times["options"]]

    # the reminder goes when the scheduler runs 24 hours before, once; outside the window: the template
    schedule = reminders(stack)
    the_clock.set("2026-12-08", 8, 29)
    schedule.fire()
    seen = len(anna.inbox())
    the_clock.set("2026-12-08", 8, 31)
    assert schedule.fire()["reminded"] == 1
    assert schedule.fire()["reminded"] == 0
    reminder = after(anna, seen, with_option(f"ag:no:{code}"))
    assert reminder["type"] == "template" and [o["title"] for o in reminder["options"]] == [
        "Confermo", "Sposta", "Disdico"]
    assert code in reminder["text"] and "9 dicembre" in reminder["text"]

    seen = len(anna.inbox())
    anna.tap(f"ag:no:{code}", "Disdico", kind="quick_reply")
    assert "di nuovo libero" in after(anna, seen, with_text(f"{code} disdetto"))["text"]
    assert start in [t["start"] for t in line.public("GET", "/services/incidente/slots",
                                                     params={"day": "2026-12-09"}).json()["items"]]
    # another citizen takes it
    seen = len(bruno.inbox())
    bruno.tap(f"ag:t:incidente:{start}", "08:30", kind="list")
    after(bruno, seen, with_text("nome e cognome"))
    seen = len(bruno.inbox())
    bruno.text("Aiuto")  # no name: an emergency word keeps going to the safety line's 112 answer
    assert "112" in after(bruno, seen, with_text("112"))["text"]
    seen = len(bruno.inbox())
    bruno.text("Bruno Verdi")
    summary = after(bruno, seen, with_option("ag:okr:"))
    seen = len(bruno.inbox())
    bruno.tap(option(summary, "ag:okr:")["id"], "Conferma e ricorda")
    assert "mercoledì 9 dicembre alle 08:30" in after(bruno, seen, with_text("Prenotazione confermata"))["text"]
    # APPUNTAMENTI lists it; the name is remembered: the next booking does not ask it again
    seen = len(bruno.inbox())
    bruno.text("APPUNTAMENTI")
    listed = after(bruno, seen, with_option("ag:mv:"))
    assert "08:30" in listed["text"]
    day = line.call("GET", "/api/v1/agenda/day", params={"office": "polizia", "date": "2026-12-09"}).json()
    [counter_1] = [c for c in day["counters"] if c["id"] == "1"]
    assert sorted((b["status"], b["name"]) for b in counter_1["bookings"]) == [("booked", "Bruno Verdi"),
                                                                               ("cancelled", "Anna Bianchi")]


def test_thirty_citizens_racing_for_one_slot_one_books_and_29_are_told_the_next_times(stack, the_clock):
    agenda = {**AGENDA, "offices": [{**AGENDA["offices"][0], "counters": [{"id": "1", "name": "Sportello 1"}],
                                     "hours": {"mon": ["09:00-10:00"]}}],
              "services": [{"id": "smarriti", "name": "Ritiro oggetti smarriti", "office": "polizia",
                            "duration_minutes": 15, "min_notice_days": 1, "horizon_days": 7}]}
    line = AgendaLine(stack, agenda)
    phones = [line.phone() for _ in range(30)]

    for phone in phones:  # each has booked here before and asked us to remember their name («Conferma e ricorda»)
        store.save_person(AgendaPersonModel(line.tenant, phone.e164, name=f"Cittadino {phone.number[-4:]}",
                                            remember=True, consent_at=clock.now(), no_shows=0), None)
    counts = [len(p.inbox()) for p in phones]
    go = threading.Barrier(30)

    def confirm(phone: Phone) -> None:
        go.wait()
        phone.tap("ag:ok:smarriti:2026-12-07T09:00", "Conferma")

    workers = [threading.Thread(target=confirm, args=(p,)) for p in phones]
    [w.start() for w in workers]
    [w.join() for w in workers]

    outcomes = [after(p, seen, lambda m: with_text("Prenotazione confermata|appena stato prenotato")(m), 60)
                for p, seen in zip(phones, counts, strict=True)]
    won = [o for o in outcomes if "Prenotazione confermata" in o["text"]]
    assert len(won) == 1
    for phone, seen in zip(phones, counts, strict=True):
        if any("Prenotazione confermata" in (m.get("text") or "") for m in phone.inbox()[seen:]):
            continue
        offer = after(phone, seen, with_option("ag:t:smarriti:2026-12-07T09:15"))
        assert "Orari ancora liberi" in offer["text"] and "09:15" in offer["text"]
    day = line.call("GET", "/api/v1/agenda/day", params={"date": "2026-12-07"}).json()
    assert [b["start"] for c in day["counters"] for b in c["bookings"]] == ["2026-12-07T09:00"]

    # the inbound worker of make dev takes messages one by one; in AWS many run at once: 30 bookings of 09:30 at
    # the same instant through the use case itself, each having read the slot free, and only the store's
    # conditional write can tell them apart
    from chalicelib.services.agenda import booking

    tenant = directory.get_tenant(line.tenant)
    results: list = []
    go = threading.Barrier(30)

    def take(n: int) -> None:
        who = booking.Who(person=f"+39347790{n:04d}", name=f"Cittadino {n}", phone=f"+39347790{n:04d}")
        go.wait()
        try:
            results.append(booking.book(tenant, "smarriti", "2026-12-07T09:30", who, "web", clock.now()))
        except booking.SlotGone as gone:
            results.append(gone)

    workers = [threading.Thread(target=take, args=(n,)) for n in range(30)]
    [w.start() for w in workers]
    [w.join() for w in workers]
    gone = [r for r in results if isinstance(r, booking.SlotGone)]
    assert len(results) == 30 and len(gone) == 29
    assert all([s.start for s in g.alternatives] == ["2026-12-07T09:45"] for g in gone)


def test_the_portal_books_the_same_pool_and_the_signed_link_moves_and_cancels(stack, the_clock):
    line = AgendaLine(stack)
    catalogue = line.public("GET", "/services").json()
    assert {s["id"] for s in catalogue["services"]} == {"incidente", "smarriti", "contrassegno", "agente"}
    assert line.public("GET", "/services/nessuno/days").status_code == 404
    days = line.public("GET", "/services/contrassegno/days").json()["items"]
    assert days[0]["date"] == "2026-12-09"  # two working days' notice from Friday, past the Immacolata
    slots = line.public("GET", "/services/contrassegno/slots", params={"day": "2026-12-09"}).json()["items"]
    first, second = slots[0], slots[2]  # 30 minutes on a 15-minute grid: once 08:30 is taken, 08:45 is not free
    assert (first["start"], slots[1]["start"], second["start"]) == (
        "2026-12-09T08:30", "2026-12-09T08:45", "2026-12-09T09:00")

    form = {"service": "contrassegno", "start": first["start"], "name": "Carla Neri", "phone": "347 780 1234",
            "consent": True}
    made = line.public("POST", "/bookings", json=form)
    assert made.status_code == 201, made.text
    booked = made.json()
    assert booked["booking"]["counter"] == "2" and "certificato" in booked["booking"]["bring"]
    again = line.public("POST", "/bookings", json={**form, "name": "Dario Blu", "phone": "347 780 1235"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "slot_taken"
    assert again.json()["error"]["details"][0]["message"] == second["start"]
    # a WhatsApp citizen is not offered it either
    assert first["start"] not in [t["start"] for t in line.public(
        "GET", "/services/contrassegno/slots", params={"day": "2026-12-09"}).json()["items"]]
    refused = line.public("POST", "/bookings", json={**form, "start": "2026-12-04T11:00", "phone": "347 780 1236"})
    assert refused.status_code == 422 and "non oggi" in refused.json()["error"]["message"]
    assert line.public("POST", "/bookings", json={**form, "consent": False}).status_code == 422

    token = booked["manage_url"].rsplit("/", 1)[1]
    assert line.public("GET", f"/b/{token}x").status_code == 403
    moved = line.public("POST", f"/b/{token}/move", json={"start": second["start"]})
    assert moved.status_code == 200, moved.text
    assert moved.json()["start"] == second["start"]
    free = [t["start"] for t in line.public("GET", "/services/contrassegno/slots",
                                            params={"day": "2026-12-09"}).json()["items"]]
    assert first["start"] in free and second["start"] not in free
    assert line.public("POST", f"/b/{token}/cancel").json()["status"] == "cancelled"
    assert line.public("POST", f"/b/{token}/cancel").status_code == 409
    the_clock.set("2026-12-11", 9)  # link_days (1) after the appointment: expired
    assert line.public("GET", f"/b/{token}").status_code == 410


def test_a_staff_closure_of_a_day_tells_five_citizens_releases_their_slots_and_is_audited(stack, the_clock):
    line = AgendaLine(stack)
    citizens, codes = [], []
    for i in range(5):
        phone = line.phone()
        seen = len(phone.inbox())
        phone.text("APPUNTAMENTI")  # they wrote today: inside the 24-hour window
        after(phone, seen, with_text("Non hai appuntamenti"))
        made = line.call("POST", "/api/v1/agenda/bookings", json={
            "service": "smarriti", "start": f"2026-12-10T{('08:30', '08:45', '09:00', '11:00', '12:15')[i]}",
            "name": f"Persona {i} Desk", "phone": phone.number})
        assert made.status_code == 201, made.text
        citizens.append((phone, len(phone.inbox())))
        codes.append(made.json()["booking"]["code"])
    assert line.call("POST", "/api/v1/agenda/closures", role="technical",
                     json={"date": "2026-12-10"}).status_code == 403

    closed = line.call("POST", "/api/v1/agenda/closures", json={"office": "polizia", "date": "2026-12-10",
                                                                 "reason": "assemblea del personale"})
    assert closed.status_code == 200, closed.text
    assert (closed.json()["cancelled"], closed.json()["told"], sorted(closed.json()["codes"])) == (5, 5, sorted(codes))
    for (phone, seen), code in zip(citizens, codes, strict=True):
        told = after(phone, seen, with_text(f"appuntamento {code}"))
        assert "annullato" in told["text"] and "assemblea del personale" in told["text"]
    day = line.call("GET", "/api/v1/agenda/day", params={"date": "2026-12-10"}).json()
    assert {b["status"] for c in day["counters"] for b in c["bookings"]} == {"cancelled"}
    assert all(c["blocked"] for c in day["counters"])
    assert line.public("GET", "/services/smarriti/slots", params={"day": "2026-12-10"}).json()["items"] == []
    audit = line.call("GET", "/api/v1/audit", role="admin").json()["items"]
    actions = [(e["action"], e["target"]) for e in audit]
    assert ("agenda.closure", "agenda:polizia:2026-12-10") in actions
    assert ("agenda.day.read", "agenda:polizia:2026-12-10") in actions


def test_after_the_no_show_limit_the_reminder_asks_to_confirm_and_an_unconfirmed_booking_is_released(stack, the_clock):
    line = AgendaLine(stack, {**AGENDA, "no_show_limit": 1})
    phone = line.phone()

    def wrote_today() -> None:
        seen = len(phone.inbox())
        phone.text("APPUNTAMENTI")
        after(phone, seen, lambda m: True)

    wrote_today()
    first = line.call("POST", "/api/v1/agenda/bookings", json={
        "service": "smarriti", "start": "2026-12-07T09:00", "name": "Ugo Assente", "phone": phone.number}).json()
    code = first["booking"]["code"]
    assert line.call("POST", f"/api/v1/agenda/bookings/{code}/attendance", json={"present": False}).status_code == 422
    the_clock.set("2026-12-07", 10)
    absent = line.call("POST", f"/api/v1/agenda/bookings/{code}/attendance", json={"present": False})
    assert absent.status_code == 200 and absent.json()["status"] == "no_show"

    wrote_today()
    second = line.call("POST", "/api/v1/agenda/bookings", json={
        "service": "smarriti", "start": "2026-12-09T09:00", "name": "Ugo Assente", "phone": phone.number}).json()
    schedule = reminders(stack)
    the_clock.set("2026-12-08", 9, 1)
    seen = len(phone.inbox())
    assert schedule.fire()["reminded"] == 1
    reminder = after(phone, seen, with_option(f"ag:yes:{second['booking']['code']}"))
    assert "Per tenere il posto tocca «Confermo» entro le 06:00" in reminder["text"]
    the_clock.set("2026-12-09", 6, 1)
    seen = len(phone.inbox())
    assert schedule.fire()["released"] == 1
    told = after(phone, seen, with_text("liberato perché non è arrivata la conferma"))
    assert told["type"] == "template" and second["booking"]["code"] in told["text"]  # outside the window
    day = line.call("GET", "/api/v1/agenda/day", params={"date": "2026-12-09"}).json()
    assert [b["status"] for c in day["counters"] for b in c["bookings"]] == ["released"]
    the_clock.set("2026-12-08", 10)  # the day before, the slot is offered again
    assert "2026-12-09T09:00" in [t["start"] for t in line.public(
        "GET", "/services/smarriti/slots", params={"day": "2026-12-09"}).json()["items"]]


def test_the_privacy_desk_exports_and_erases_a_persons_bookings(stack, the_clock):
    line = AgendaLine(stack)
    number = f"+39 347 789 {uuid.uuid4().int % 10000:04d}"
    made = line.call("POST", "/api/v1/agenda/bookings", json={
        "service": "agente", "start": "2026-12-09T10:00", "name": "Rita Privata", "phone": number,
        "note": "rumori notturni"}).json()["booking"]
    exported = line.call("GET", "/api/v1/privacy/export", role="admin", params={"phone": number})
    assert exported.status_code == 200, exported.text
    [appointment] = exported.json()["appointments"]
    assert (appointment["code"], appointment["name"], appointment["note"]) == (made["code"], "Rita Privata",
                                                                               "rumori notturni")
    preview = line.call("POST", "/api/v1/privacy/preview", role="admin", json={"phone": number}).json()
    assert preview["appointments"] == 1
    erased = line.call("POST", "/api/v1/privacy/erase", role="admin", json={"phone": number})
    assert erased.status_code == 200, erased.text
    assert erased.json()["appointments_deleted"] == 1
    assert line.call("GET", "/api/v1/privacy/export", role="admin", params={"phone": number}).json()[
        "appointments"] == []
    assert "2026-12-09T10:00" in [t["start"] for t in line.public(
        "GET", "/services/agente/slots", params={"day": "2026-12-09"}).json()["items"]]


def test_the_administrator_edits_the_catalogue_as_a_settings_section(stack, the_clock):
    line = AgendaLine(stack)
    read = line.call("GET", "/api/v1/settings", role="admin").json()
    catalogue = read["sections"]["agenda"]
    assert [s["id"] for s in catalogue["services"]] == ["incidente", "smarriti", "contrassegno", "agente"]
    wrong = {**catalogue, "services": [{**catalogue["services"][0], "duration_minutes": 20}]}
    refused = line.call("PUT", "/api/v1/settings/agenda", role="admin", json={"version": read["version"],
                                                                             "value": wrong})
    assert refused.status_code == 422, refused.text
    assert "multiplo degli intervalli" in refused.json()["error"]["details"][0]["text"]
    longer = {**catalogue, "services": [{**s, "min_notice_days": 3} if s["id"] == "smarriti" else s
                                        for s in catalogue["services"]]}
    saved = line.call("PUT", "/api/v1/settings/agenda", role="admin", json={"version": read["version"],
                                                                           "value": longer})
    assert saved.status_code == 200, saved.text
    directory_days = wait_for(lambda: (lambda d: d if d and d[0]["date"] == "2026-12-10" else None)(
        line.public("GET", "/services/smarriti/days").json()["items"]), 70)
    assert directory_days[0]["date"] == "2026-12-10"  # three working days from Friday, past the Immacolata
