"""The administrators' audit log viewer and privacy desk (issue 15, items 4 and 5), over HTTP: filters, paging,
refused attempts, exports, a change's before and after; an erasure's preview that changes nothing, the erasure that
leaves no trace of the number in any staff or public answer, the subject-access archive, the log of requests.

Ids of this file: tenants and channels start with 74, citizen numbers are +39347740xxxx."""
from __future__ import annotations

import csv
import io
import itertools
import json
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
import requests

from chalicelib.domain.access import Role, Staff
from chalicelib.domain.tenancy import Channel
from chalicelib.services.access import record_change
from chalicelib.store import audit, directory
from chalicelib.store.models import ReportModel
from local.seed import REPORTS, TEMPLATES, _square
from tests.integration.conftest import Phone
from tests.integration.test_privacy import CENTRE, report_with_photo, wait_text
from tests.waiting import wait_for

_numbers = itertools.count(1)


def new_number() -> str:
    """A citizen number of this file, as a person writes it: +39 347 740 0001."""
    return f"+39 347 740 {next(_numbers):04d}"


def e164(number: str) -> str:
    return "+" + "".join(ch for ch in number if ch.isdigit())


def writings(number: str) -> set[str]:
    """The usual writings of a number: as typed, E.164, without +, national, URL-encoded, WhatsApp's wa_id."""
    key = e164(number)
    national = key[3:]
    return {number, key, key[1:], national, quote(key, safe=""), f"{national[:3]} {national[3:6]} {national[6:]}"}


class Comune:
    """A comune of this file: a broadcast and a reports channel, tokens with names (the audit shows names)."""

    def __init__(self, stack):
        n = uuid.uuid4().int % 10**9
        self.stack, self.tenant = stack, f"74comune{n}"
        self.broadcast, self.reports = f"74{n:09d}0001", f"74{n:09d}0002"
        directory.save_tenant(self.tenant, f"Comune di Settantaquattro {n}", {
            "hamlets": [{"id": "colle", "name": "Colle", "latitude": CENTRE[0], "longitude": CENTRE[1],
                         "geometry": _square(*CENTRE)}],
            "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v1", "reports": REPORTS})
        update = {"report_update": {"name": "aggiornamento_segnalazione", "language": "it", "category": "utility"}}
        for channel in (
            Channel(self.broadcast, self.tenant, "broadcast", "Avvisi", "+39 0571 930741", {
                "rate_per_second": 200, "quiet_hours": {"enabled": False},
                "templates": {"notice": {"name": "avviso_comune", "language": "it", "category": "utility"}}}),
            Channel(self.reports, self.tenant, "reports", "Segnalazioni", "+39 0571 930742",
                    {"rate_per_second": 200, "templates": update}),
        ):
            directory.save_channel(channel)
            stack.sandbox.add_channel({"phone_number_id": channel.phone_number_id, "kind": channel.kind,
                                       "tenant": self.tenant, "templates": TEMPLATES})
        self.subjects = {"admin": f"74-admin-{n}", "technical": f"74-tech-{n}", "communications": f"74-comm-{n}"}
        self.names = {"admin": "Giulia Verdi", "technical": "Marco Neri", "communications": "Paola Gialli"}
        self.tokens = {role: stack.issuer.token(self.tenant, [role], subject=self.subjects[role], name=self.names[role])
                       for role in self.subjects}

    def call(self, method: str, path: str, role: str = "admin", **kwargs) -> requests.Response:
        return requests.request(method, f"{self.stack.api_url}{path}", timeout=30,
                                headers={"Authorization": f"Bearer {self.tokens[role]}", **kwargs.pop("headers", {})},
                                **kwargs)

    def ok(self, method: str, path: str, role: str = "admin", status: int = 200, **kwargs) -> requests.Response:
        answer = self.call(method, path, role, **kwargs)
        assert answer.status_code == status, (path, answer.status_code, answer.text)
        return answer

    def audit(self, **params) -> list[dict]:
        """Every entry the filters keep, following the cursor."""
        items, cursor = [], None
        while True:
            page = self.ok("GET", "/api/v1/audit", params={**params, **({"cursor": cursor} if cursor else {})}).json()
            items += page["items"]
            cursor = page["next"]
            if not cursor:
                return items

    def phone(self, channel: str, number: str) -> Phone:
        return Phone(self.stack, channel, number)


@pytest.fixture
def comune(stack):
    return Comune(stack)


def admin_staff(comune: Comune) -> Staff:
    return Staff(subject=comune.subjects["admin"], tenant_id=comune.tenant, roles=frozenset({Role.ADMIN}),
                 name=comune.names["admin"])


# ---- audit log viewer -------------------------------------------------------------------------------------------

def test_the_audit_viewer_filters_pages_names_people_and_shows_refusals(comune):
    number, other = new_number(), new_number()
    comune.ok("GET", "/api/v1/me")  # the admin signs in: the staff roster knows their name
    for who in (number, other):
        comune.ok("POST", "/api/v1/subscribers", role="communications", status=201,
                  json={"channel": comune.broadcast, "phone": who})
    path = f"/api/v1/subscribers/{quote(e164(number), safe='')}"
    comune.ok("GET", path, role="communications", params={"channel": comune.broadcast})
    assert comune.call("GET", path, role="technical", params={"channel": comune.broadcast}).status_code == 403
    assert comune.call("GET", path, role="communications", params={"channel": "74999999999999"}).status_code == 404
    # entries written before display names were kept: the roster's name, else "sconosciuto", never the id
    now = datetime.now(UTC)
    audit.append(audit.AuditEntry(comune.tenant, comune.subjects["admin"], "report.read", "2026-0000001", now))
    audit.append(audit.AuditEntry(comune.tenant, "f81d4fae-7dec-11d0-a765-00a0c91e6bf6", "report.read",
                                  "2026-0000002", now))

    everything = comune.audit(limit="100")
    assert everything == sorted(everything, key=lambda e: e["at"], reverse=True)  # newest first
    names = {(e["action"], e["target"]): e["actor_name"] for e in everything}
    assert names[("report.read", "2026-0000001")] == "Giulia Verdi"
    assert names[("report.read", "2026-0000002")] == "sconosciuto"
    assert names[("subscriber.read", f"{comune.broadcast}#{e164(number)}")] == "Paola Gialli"
    assert all("f81d4fae" not in e["actor_name"] for e in everything)
    refused = [e for e in everything if e["refused"]]
    assert {e["action"] for e in refused} == {"refused.403", "refused.404"}
    assert {e["action_label"] for e in refused} == {"Rifiutato: permesso negato", "Rifiutato: non trovato"}
    assert {(e["action"], e["actor_name"]) for e in refused} == {
        ("refused.403", "Marco Neri"), ("refused.404", "Paola Gialli")}
    assert everything[0]["action"] == "audit.read"  # reading the log is itself audited

    # "who looked at this citizen's data?": the number in another writing finds what names it, refusals included
    about = comune.audit(object=number.replace("+39 ", ""))
    assert {e["action"] for e in about} == {"subscriber.add", "subscriber.read", "refused.403", "refused.404",
                                           "audit.read"}  # this very search names the number too
    assert all(e164(other) not in e["target"] for e in about)
    assert {e["action"] for e in comune.audit(action="subscriber.")} == {"subscriber.add", "subscriber.read"}
    assert {e["target"] for e in comune.audit(action="subscriber.add")} == {
        f"{comune.broadcast}#{e164(number)}", f"{comune.broadcast}#{e164(other)}"}
    assert {e["action"] for e in comune.audit(actor=comune.subjects["technical"])} == {"refused.403"}
    assert {e["action"] for e in comune.audit(action="refused.")} == {"refused.403", "refused.404"}
    yesterday = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    assert comune.audit(to=yesterday, action="subscriber.") == []  # the date range bounds the query
    assert len(comune.audit(**{"from": yesterday}, action="subscriber.")) == 3

    # paging: pages of 2 give every entry once, newest first
    paged = comune.audit(limit="2", action="subscriber.")
    assert [e["at"] for e in paged] == sorted({e["at"] for e in paged}, reverse=True) and len(paged) == 3

    for bad in ({"from": "ieri"}, {"to": "2026-13-01"}, {"cursor": "non un cursore"},
                {"from": "2026-12-05", "to": "2026-12-01"}):
        answer = comune.call("GET", "/api/v1/audit", params=bad)
        assert answer.status_code == 422, (bad, answer.text)
        assert answer.json()["error"]["details"][0]["field"] in bad

    pickers = comune.ok("GET", "/api/v1/audit/filters").json()
    assert {"subject": comune.subjects["admin"], "name": "Giulia Verdi"} in pickers["people"]  # the roster
    assert {"subject": comune.subjects["communications"], "name": "Paola Gialli"} in pickers["people"]  # the log
    labels = {a["value"]: a["label"] for a in pickers["actions"]}
    assert labels["subscriber.read"] == "Iscritto consultato" and labels["refused."].startswith("Rifiutato")
    assert comune.call("GET", "/api/v1/audit/filters", role="communications").status_code == 403


def test_a_change_shows_before_and_after_and_the_log_exports(comune):
    staff = admin_staff(comune)
    record_change(staff, "settings.update", "retention", {"deliveries": 90}, {"deliveries": 60})
    [change] = comune.audit(action="settings.")
    assert change["changed"] and change["before"] == {"deliveries": 90} and change["after"] == {"deliveries": 60}
    assert change["actor_name"] == "Giulia Verdi" and change["action_label"].startswith("Impostazioni")

    answer = comune.ok("GET", "/api/v1/audit/export", params={"action": "settings.", "format": "csv"})
    assert answer.headers["Content-Type"].startswith("text/csv")
    assert "registro-accessi" in answer.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:5] == ["data e ora", "persona", "azione", "codice", "oggetto"]
    assert [r[1:7] for r in rows[1:]] == [["Giulia Verdi", change["action_label"], "settings.update", "retention",
                                           '{"deliveries": 90}', '{"deliveries": 60}']]
    xlsx = comune.ok("GET", "/api/v1/audit/export", params={"action": "settings.", "format": "xlsx"}, headers={
        "Accept": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"})
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in next(sheet.iter_rows(min_row=2, max_row=2))][1:5] == [
        "Giulia Verdi", change["action_label"], "settings.update", "retention"]
    assert {e["action"] for e in comune.audit(action="export.")} == {"export.audit"}
    assert comune.call("GET", "/api/v1/audit/export", role="technical").status_code == 403


# ---- privacy desk -----------------------------------------------------------------------------------------------

def a_citizen_everywhere(comune: Comune, number: str) -> dict:
    """Subscribed, filed a report with a photo, chatted in Messaggi, looked up by staff. Returns their report."""
    subscriber = comune.phone(comune.broadcast, number)
    subscriber.text("ATTIVA")
    subscriber.wait_inbox(1)
    subscriber.tap("sub:confirm", "Sì, confermo")
    subscriber.wait_inbox(3)
    sent = comune.ok("POST", "/api/v1/broadcasts", role="communications", status=201, json={
        "channel": comune.broadcast, "text": "Domenica il mercato si sposta in piazza Garibaldi", "priority": "alert"})
    wait_text(subscriber, "mercato si sposta")
    wait_for(lambda: comune.ok("GET", f"/api/v1/broadcasts/{sent.json()['id']}", role="communications"
                               ).json()["counters"]["delivered"] >= 1)
    before = len(subscriber.inbox())
    subscriber.text("Anche il mercato di sabato è spostato?")
    subscriber.wait_inbox(before + 1)
    conversation = quote(f"{comune.broadcast}.{e164(number)}", safe="")
    wait_for(lambda: comune.call("GET", f"/api/v1/conversations/{conversation}",
                                 role="communications").status_code == 200)
    comune.ok("POST", f"/api/v1/conversations/{conversation}/replies", role="communications", status=201,
              json={"text": "Sì, si terrà in piazza Garibaldi."})
    reporter = comune.phone(comune.reports, number)
    report_with_photo(comune, reporter, "Buca profonda in via Roma davanti al forno", CENTRE)
    [report] = wait_for(lambda: comune.ok("GET", "/api/v1/reports", role="technical").json()["items"])
    comune.ok("GET", f"/api/v1/reports/{report['id']}", role="technical")
    comune.ok("POST", f"/api/v1/reports/{report['id']}/transitions", role="technical",
              json={"to": "triaged", "note": "Squadra in arrivo domani", "public": True})
    comune.ok("GET", f"/api/v1/citizens/{quote(e164(number), safe='')}")
    comune.ok("GET", f"/api/v1/subscribers/{quote(e164(number), safe='')}", role="communications",
              params={"channel": comune.broadcast})
    return report


def staff_and_public_answers(comune: Comune, report: dict, number: str) -> dict[str, str]:
    """Every answer the console and the public can reach that could name the citizen."""
    key = quote(e164(number), safe="")
    token = ReportModel.get(comune.tenant, report["id"]).public_token
    staff_calls = [
        ("admin", "/api/v1/subscribers", {"channel": comune.broadcast}),
        ("admin", "/api/v1/subscribers", {"channel": comune.broadcast, "q": number}),
        ("admin", "/api/v1/subscribers", {"channel": comune.reports}),
        ("communications", "/api/v1/conversations", {}),
        ("admin", "/api/v1/conversations", {}),
        ("technical", "/api/v1/reports", {}),
        ("technical", f"/api/v1/reports/{report['id']}", {}),
        ("technical", "/api/v1/exports/reports", {}),
        ("communications", "/api/v1/broadcasts", {}),
        *[("communications", f"/api/v1/broadcasts/{b['id']}", {}) for b in comune.ok(
            "GET", "/api/v1/broadcasts", role="communications").json()["items"]],
        ("communications", "/api/v1/exports/broadcasts", {}),
        ("communications", "/api/v1/exports/subscribers", {"channel": comune.broadcast}),
        ("admin", "/api/v1/audit", {"limit": "100"}),
        ("admin", "/api/v1/audit/export", {}),
        ("admin", "/api/v1/privacy/requests", {}),
        ("admin", "/api/v1/reports/arrivals", {}),
    ]
    answers = {}
    for role, path, params in staff_calls:
        answer = comune.call("GET", path, role, params=params)
        assert answer.status_code == 200, (path, answer.text)
        answers[f"{role} {path} {params}"] = answer.content.decode("utf-8-sig")
    citizen = comune.ok("GET", f"/api/v1/citizens/{key}").json()
    answers["citizen view"] = json.dumps({k: v for k, v in citizen.items() if k not in ("subject", "phone")})
    api = comune.stack.api_url
    for path in (f"/open311/v2/requests.json?jurisdiction_id={comune.tenant}",
                 f"/public/v1/{comune.tenant}/reports", f"/public/v1/{comune.tenant}/portal",
                 f"/public/v1/{comune.tenant}/status/{token}", f"/s/{token}"):
        answer = requests.get(f"{api}{path}", timeout=30)
        assert answer.status_code == 200, (path, answer.text)
        answers[path] = answer.text
    return answers


def test_preview_erasure_archive_and_no_trace_of_the_number(comune):
    number, neighbour = new_number(), new_number()
    key = e164(number)
    report = a_citizen_everywhere(comune, number)
    comune.ok("POST", "/api/v1/subscribers", role="communications", status=201,
              json={"channel": comune.broadcast, "phone": neighbour})
    assert any(key in text for text in staff_and_public_answers(comune, report, number).values())  # it was there

    # the archive: the JSON, a summary in Italian and the photo they sent
    answer = comune.ok("GET", "/api/v1/privacy/archive", params={"phone": number},
                       headers={"Accept": "application/zip"})
    assert answer.headers["Content-Type"] == "application/zip"
    assert "dati-personali" in answer.headers["Content-Disposition"] and key not in answer.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    names = archive.namelist()
    assert {"dati.json", "riepilogo.txt"} <= set(names)
    photos = [n for n in names if n.startswith("file/")]
    assert len(photos) == 1 and archive.read(photos[0])[:3] == b"\xff\xd8\xff"  # a JPEG
    data = json.loads(archive.read("dati.json"))
    assert data["subject"] == key and [r["id"] for r in data["reports"]] == [report["id"]]
    assert [c["messages"][0]["text"] for c in data["conversations"]] == ["Anche il mercato di sabato è spostato?"]
    summary = archive.read("riepilogo.txt").decode()
    assert "Segnalazioni inviate: 1" in summary and "Conversazioni con gli uffici: 1" in summary
    assert "File inviati con le segnalazioni e inclusi in questo archivio (cartella file/): 1" in summary
    assert comune.call("GET", "/api/v1/privacy/archive", role="technical", params={"phone": number}).status_code == 403
    assert comune.call("GET", "/api/v1/privacy/archive", params={"phone": "non un numero"}).status_code == 422

    # the preview names what would go and what stays, and changes nothing
    before = {(e["action"], e["target"]) for e in comune.audit()}
    preview = comune.ok("POST", "/api/v1/privacy/preview", json={"phone": number.replace("+39 ", "")}).json()
    assert preview["subject"] == key and key not in preview["masked"]
    assert {(c["kind"], c["citizen_record"]) for c in preview["channels"]} == {("broadcast", True), ("reports", True)}
    by_kind = {c["kind"]: c for c in preview["channels"]}
    assert by_kind["broadcast"]["status"] == "active" and by_kind["broadcast"]["consents"] >= 1
    assert by_kind["broadcast"]["conversation_messages"] >= 2
    assert (preview["reports_sent"], preview["files"], preview["conversations"]) == (1, 1, 1)
    assert preview["delivery_records"] >= 3 and preview["audit_entries"] >= 4
    assert "consent_ledger" in preview["kept"] and "reports_anonymised" in preview["kept"]
    assert [r["kind"] for r in preview["previous_requests"]] == ["export"]
    new = {(e["action"], e["target"]) for e in comune.audit()} - before
    assert ("privacy.preview", key) in new and {action for action, _ in new} <= {"privacy.preview", "audit.read"}
    assert comune.ok("GET", f"/api/v1/reports/{report['id']}", role="technical").json()["reporter"] is not None
    comune.ok("GET", f"/api/v1/subscribers/{quote(key, safe='')}", role="communications",
              params={"channel": comune.broadcast})
    assert comune.call("POST", "/api/v1/privacy/preview", role="technical", json={"phone": number}).status_code == 403
    bad = comune.call("POST", "/api/v1/privacy/preview", json={"phone": "12"})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "phone"

    # the erasure, then no trace of the number anywhere staff or the public can look
    erased = comune.ok("POST", "/api/v1/privacy/erase", json={"phone": number}).json()
    pseudonym = erased["pseudonym"]
    assert erased["audit_entries_pseudonymised"] >= 4 and pseudonym.startswith("interessato-")
    answers = staff_and_public_answers(comune, report, number)
    citizen = comune.ok("GET", f"/api/v1/citizens/{quote(key, safe='')}").json()
    assert all(c["subscriber"] is None for c in citizen["channels"]) and citizen["reports"] == []
    assert citizen["conversation"] == []
    conversation = quote(f"{comune.broadcast}.{key}", safe="")
    assert comune.call("GET", f"/api/v1/conversations/{conversation}", role="communications").status_code == 404
    leaks = [(where, form) for where, text in answers.items() for form in writings(number) if form in text]
    assert not leaks, leaks
    assert any(e164(neighbour) in text for text in answers.values())  # the search does see other numbers
    trail = comune.audit()
    assert ("privacy.erase", pseudonym) in {(e["action"], e["target"]) for e in trail}
    assert any(e["target"] == f"{comune.broadcast}#{pseudonym}" and e["action"] == "subscriber.read" for e in trail)
    assert comune.audit(object=pseudonym)  # the DPO can still follow the person's trail by the pseudonym

    # the log of requests handled: kind, when, who, outcome; the person masked and by keyed hash only
    log = comune.ok("GET", "/api/v1/privacy/requests").json()["items"]
    assert [(r["kind"], r["outcome"], r["actor_name"]) for r in log] == [
        ("erase", "done", "Giulia Verdi"), ("export", "done", "Giulia Verdi")]
    assert log[0]["subject"] == log[1]["subject"] and log[0]["subject_hash"] == log[1]["subject_hash"]
    assert log[0]["summary"]["reports_anonymised"] == 1
    again = comune.ok("GET", "/api/v1/privacy/requests", params={"phone": number}).json()["items"]
    assert len(again) == 2  # a repeat request finds the earlier ones
    assert comune.ok("GET", "/api/v1/privacy/requests", params={"phone": neighbour}).json()["items"] == []
