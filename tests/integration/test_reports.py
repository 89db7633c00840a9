"""Reports through the sandbox and the staff API, as a citizen and the technical office live them: intake,
photos, position, duplicates, the lifecycle with citizen updates, STATO, forwarding by email, desk entry."""
from __future__ import annotations

import base64
import io
import itertools
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import boto3
import pytest
import requests
from PIL import ExifTags, Image

from chalicelib.domain.tenancy import Channel
from chalicelib.resources import bucket_name
from chalicelib.store import directory
from local.seed import REPORTS, TEMPLATES, _square
from tests.integration.conftest import Phone
from tests.leaks import shown
from tests.waiting import wait_for

_towns = itertools.count(1)
YEAR = datetime.now(ZoneInfo("Europe/Rome")).year
CENTRE = (43.7430, 10.9460)  # inside the hamlet "colle" of every test town


class Town:
    """A comune of its own with a reports channel, so report numbers start at 1."""

    def __init__(self, stack):
        n = next(_towns)
        self.stack, self.tenant = stack, f"segnala{n}"
        self.channel = f"3000000000{n:05d}"
        directory.save_tenant(self.tenant, f"Comune di Segnala {n}", {
            "hamlets": [{"id": "colle", "name": "Colle", "latitude": CENTRE[0], "longitude": CENTRE[1],
                         "geometry": _square(*CENTRE)},
                        {"id": "piano", "name": "Piano", "latitude": 43.7190, "longitude": 10.9460,
                         "geometry": _square(43.7190, 10.9460)}],
            "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v1",
            "reports": REPORTS,
        })
        directory.save_channel(Channel(self.channel, self.tenant, "reports", "Segnalazioni", "+39 0571 910000", {
            "rate_per_second": 200, "templates": {"report_update": {"name": "aggiornamento_segnalazione"}}}))
        stack.sandbox.add_channel({"phone_number_id": self.channel, "kind": "reports", "tenant": self.tenant,
                                   "templates": TEMPLATES})
        self.tokens = {role: stack.issuer.token(self.tenant, [role]) for role in ("technical", "police", "admin")}

    def call(self, method: str, path: str, role: str = "technical", **kwargs) -> requests.Response:
        return requests.request(method, f"{self.stack.api_url}{path}", timeout=30,
                                headers={"Authorization": f"Bearer {self.tokens[role]}"}, **kwargs)

    def phone(self, number: str) -> Phone:
        return Phone(self.stack, self.channel, number)

    def reports(self, **params) -> list[dict]:
        answer = self.call("GET", "/api/v1/reports", params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()["items"]

    def report(self, report_id: str) -> dict:
        answer = self.call("GET", f"/api/v1/reports/{report_id}")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def wait_report(self, predicate, timeout: float = 15) -> dict:
        return wait_for(lambda: next((r for r in self.reports() if predicate(r)), None), timeout)

    def step(self, report_id: str, to: str, **body) -> requests.Response:
        return self.call("POST", f"/api/v1/reports/{report_id}/transitions", json={"to": to, **body})


@pytest.fixture
def town(stack):
    return Town(stack)


def photo_jpeg() -> bytes:
    """A phone photo: EXIF with the camera and a GPS position."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Telefono"
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (43.0, 44.0, 34.8),
                                  ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (10.0, 56.0, 45.6)}
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "gray").save(out, "JPEG", exif=exif)
    return out.getvalue()


def send_photo(phone: Phone, data: bytes, mime_type: str = "image/jpeg", caption: str | None = None) -> dict:
    extra = {"caption": caption} if caption else {}
    return phone.send(type="image", image_base64=base64.b64encode(data).decode(), mime_type=mime_type, **extra)


def texts(phone: Phone) -> list[str]:
    return [m.get("text") or "" for m in phone.inbox()]


def wait_text(phone: Phone, pattern: str, timeout: float = 15) -> str:
    """The newest message to the phone matching pattern (a regular expression)."""
    return wait_for(lambda: next((t for t in reversed(texts(phone)) if re.search(pattern, t)), None), timeout)


def test_pothole_with_photo_and_pin_is_numbered_triaged_assigned_resolved(town, stack):
    citizen = town.phone("+39 333 100 0001")
    citizen.text("Buca profonda in via Roma")
    receipt = wait_text(citizen, r"n\. \d{4}/\d+")
    assert f"n. {YEAR}/1 " in receipt
    assert "posizione" in receipt and "foto" in receipt  # asks for what is missing
    status_url = re.search(r"(http\S+/s/\S+)", receipt).group(1)

    original = photo_jpeg()
    send_photo(citizen, original)
    wait_text(citizen, f"Foto aggiunta alla segnalazione n. {YEAR}/1")
    citizen.send(type="location", latitude=CENTRE[0] + 0.001, longitude=CENTRE[1], address="Via Roma 12")
    wait_text(citizen, r"Posizione aggiunta .*\(frazione Colle\)")

    [listed] = town.reports(kind="report")
    assert (listed["number"], listed["category"], listed["hamlet"], listed["status"]) == (
        f"{YEAR}/1", "strade", "colle", "new")
    assert listed["location"]["latitude"] == pytest.approx(CENTRE[0] + 0.001)
    detail = town.report(listed["id"])
    [photo] = detail["photos"]
    assert photo["status"] == "stored" and photo["content_type"] == "image/jpeg"
    assert requests.get(photo["url"], timeout=10).content == original  # staff read it through a presigned URL
    _assert_private_and_public_copy(stack, town.tenant, listed["id"])
    assert "Buca" in requests.get(status_url, timeout=10).text or f"{YEAR}/1" in requests.get(status_url, timeout=10).text

    before = len(citizen.inbox())
    # triaged and assigned are internal unless staff choose to tell (issue 13): here they do
    assert town.step(listed["id"], "triaged", note="Sopralluogo domani mattina", public=True).status_code == 200
    assert town.step(listed["id"], "assigned", team="cantonieri", public=True).status_code == 200
    assert town.step(listed["id"], "resolved", note="Buca chiusa con asfalto a freddo").status_code == 200
    citizen.wait_inbox(before + 3)
    updates = texts(citizen)[before:]
    assert any("presa in carico" in t and "Sopralluogo domani mattina" in t for t in updates)
    assert any("affidata alla squadra" in t for t in updates)
    assert any("risolta" in t and "asfalto a freddo" in t for t in updates)
    events = [e["status"] for e in town.report(listed["id"])["events"] if e["action"] == "status"]
    assert events == ["triaged", "assigned", "resolved"]

    citizen.text("STATO 1")
    assert "risolta" in wait_text(citizen, rf"Segnalazione n\. {YEAR}/1 ")
    stranger = town.phone("+39 333 100 0002")
    stranger.text("STATO 1")
    assert "Non troviamo" in wait_text(stranger, "Non troviamo")
    assert not town.reports(kind="report")[0]["number"] != f"{YEAR}/1"  # STATO opened no report


def _assert_private_and_public_copy(stack, tenant: str, report_id: str) -> None:
    """S3 keeps the original for staff and a copy without EXIF/GPS for anything shown outside."""
    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket_name("media"),
                                                  Prefix=f"tenants/{tenant}/reports/{report_id}/")["Contents"]]
    public = next(k for k in keys if "/public." in k)
    assert any("/original." in k for k in keys)
    with Image.open(io.BytesIO(s3.get_object(Bucket=bucket_name("media"), Key=public)["Body"].read())) as image:
        assert not image.getexif() and "exif" not in image.info
    acl = s3.get_object_acl(Bucket=bucket_name("media"), Key=public)
    assert not [g for g in acl["Grants"] if g["Grantee"].get("URI", "").endswith("AllUsers")]


def test_second_report_of_the_same_pothole_follows_the_first(town):
    first, second = town.phone("+39 333 200 0001"), town.phone("+39 333 200 0002")
    first.text("Lampione spento in via Verdi da una settimana")
    wait_text(first, "n. ")
    first.send(type="location", latitude=CENTRE[0], longitude=CENTRE[1])
    wait_text(first, "Posizione aggiunta")
    original = town.wait_report(lambda r: r["location"])

    second.text("Il lampione davanti al civico 3 di via Verdi non si accende")
    wait_text(second, "n. ")
    second.send(type="location", latitude=CENTRE[0] + 0.0002, longitude=CENTRE[1])  # about 22 m away
    reply = wait_text(second, "già stato segnalato|già segnalat")
    assert f"n. {original['number']}" in reply

    duplicate = town.wait_report(lambda r: r["status"] == "duplicate")
    assert duplicate["duplicate_of"] == original["id"]
    assert town.report(original["id"])["followers"] == 1
    assert town.step(original["id"], "triaged", public=False).status_code == 200  # internal: nobody is told
    before_first, before_second = len(first.inbox()), len(second.inbox())
    assert town.step(original["id"], "resolved", note="Lampada sostituita").status_code == 200
    # the update, then the question «Risolto» / «Non risolto» (services/reports/feedback.py), to both
    assert "Lampada sostituita" in first.wait_inbox(before_first + 2)[before_first]["text"]
    assert "Lampada sostituita" in second.wait_inbox(before_second + 2)[before_second]["text"]
    assert len(first.settle()) == before_first + 2  # the internal step sent nothing


def test_far_apart_or_other_category_is_not_a_duplicate(town):
    a, b = town.phone("+39 333 210 0001"), town.phone("+39 333 210 0002")
    for phone, text, where in ((a, "Buca in via Dante", CENTRE), (b, "Buca in via Dante", (CENTRE[0] + 0.002, CENTRE[1]))):
        phone.text(text)
        wait_text(phone, "n. ")
        phone.send(type="location", latitude=where[0], longitude=where[1])
        wait_text(phone, "Posizione aggiunta")
    assert {r["status"] for r in town.reports()} == {"new"}  # 220 m apart: two reports


def test_forwarding_emails_the_external_body_and_tells_the_citizen(town, stack):
    citizen = town.phone("+39 333 300 0001")
    citizen.text("Il fosso lungo via dei Campi è intasato e l'acqua esce sulla carreggiata")
    wait_text(citizen, "n. ")
    send_photo(citizen, photo_jpeg())
    wait_text(citizen, "Foto aggiunta")
    report = town.wait_report(lambda r: r["photos"] == 1)
    assert report["category"] == "acque"

    answer = town.step(report["id"], "forwarded", external_body="consorzio", external_reference="CB-2026-118")
    assert answer.status_code == 200, answer.text
    external = answer.json()["external"]
    assert external["name"] == "Consorzio di bonifica Esempio" and external["reference"] == "CB-2026-118"
    assert external["forwarded_at"] and external["email_message_id"]

    comune = f"Comune di Segnala {town.tenant.removeprefix('segnala')}"  # other comuni's reports share numbers
    [email] = [m for m in _sent_emails() if m.subject.startswith(f"[{comune}] Segnalazione {report['number']}:")
               and m.destinations["ToAddresses"] == ["segnalazioni@bonifica.esempio.it"]]  # not the staff notices
    assert email.destinations["ToAddresses"] == ["segnalazioni@bonifica.esempio.it"]
    assert "intasato" in email.body and "X-Amz-Signature" in email.body  # the photo as a short-lived link
    assert "+39333" not in email.body.replace(" ", "")  # the citizen's number stays with the comune
    update = wait_text(citizen, "inoltrata a Consorzio di bonifica Esempio")
    assert datetime.now(ZoneInfo("Europe/Rome")).strftime("%d/%m/%Y") in update


def _sent_emails():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return ses_backends[DEFAULT_ACCOUNT_ID]["eu-south-1"].sent_messages


def test_category_list_when_the_text_does_not_tell(town):
    citizen = town.phone("+39 333 400 0001")
    citizen.text("C'è un problema davanti alla scuola")
    listing = wait_for(lambda: next((m for m in citizen.inbox() if m.get("type") == "interactive"), None), 15)
    assert "categoria" in str(listing).lower()
    citizen.tap("cat:verde", "Verde pubblico", kind="list")
    wait_text(citizen, "Categoria «Verde pubblico» registrata")
    assert town.wait_report(lambda r: r["category"] == "verde")


def test_refused_photo_failed_fetch_and_voice_note_are_explained_and_nothing_is_lost(town, stack):
    citizen = town.phone("+39 333 500 0001")
    citizen.text("Rami caduti sul marciapiede di via Garibaldi")
    wait_text(citizen, "n. ")
    gif = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(gif, "GIF")
    send_photo(citizen, gif.getvalue(), mime_type="image/gif")
    wait_text(citizen, "JPEG, PNG o WebP")

    stack.sandbox.configure(media_faults=3)  # the three quick tries of the next fetch fail
    send_photo(citizen, photo_jpeg())
    wait_text(citizen, "non serve inviarla di nuovo")  # kept as pending, fetched again from the queue
    town.wait_report(lambda r: r["photos"] == 1)
    stack.sandbox.configure(media_faults=1)  # one failure: the quick retry fetches it
    send_photo(citizen, photo_jpeg())
    wait_text(citizen, "Foto aggiunta")

    citizen.send(type="audio")  # a voice note is kept with the report now (issue 13), apart from its photos
    wait_text(citizen, "Messaggio vocale aggiunto")
    report = town.wait_report(lambda r: r["photos"] == 2)
    detail = town.report(report["id"])
    assert [(p["status"], p["reason"]) for p in detail["photos"]] == [
        ("refused", "unsupported_type"), ("stored", None), ("stored", None)]
    assert not any("Non siamo riusciti" in t for t in texts(citizen))
    assert "Rami caduti" in detail["text"] and len(town.reports()) == 1


def test_desk_report_joins_the_queue_and_bad_input_is_clear(town):
    created = town.call("POST", "/api/v1/reports", json={
        "source": "phone", "text": "Telefonata: cassonetto rovesciato in piazza", "address": "Piazza Grande",
        "position": {"latitude": 43.7190, "longitude": 10.9460}, "contact": {"name": "Maria Rossi"}})
    assert created.status_code == 201, created.text
    report = created.json()
    assert (report["source"], report["category"], report["hamlet"], report["status"]) == ("phone", "rifiuti", "piano", "new")
    assert report["contact"] == {"name": "Maria Rossi"}

    bad = town.call("POST", "/api/v1/reports", json={"source": "fax", "text": ""})
    assert bad.status_code == 422 and bad.json()["error"]["details"]
    unknown = town.call("POST", "/api/v1/reports", json={"source": "desk", "text": "Altro problema", "category": "x"})
    assert unknown.status_code == 422
    assert town.step(report["id"], "in_progress").status_code == 409  # new -> in_progress skips triage
    assert town.step(report["id"], "assigned", team="pompieri").status_code == 422  # not a team of this comune
    assigned = town.step(report["id"], "assigned")  # rifiuti goes to the cantonieri by default
    assert assigned.status_code == 200 and assigned.json()["team"] == "cantonieri"
    other = town.call("POST", "/api/v1/reports", json={"source": "email", "text": "Segnalazione generica"}).json()
    assert other["category"] is None
    assert town.step(other["id"], "assigned").status_code == 422  # no category, no team: say which
    assert town.call("GET", "/api/v1/reports/2026-9999999").status_code == 404


def test_staff_list_filters_and_merge_by_hand(town):
    for text in ("Buca in via Po", "Lampione rotto in via Po", "Buca enorme in via Tevere"):
        assert town.call("POST", "/api/v1/reports", json={"source": "desk", "text": text}).status_code == 201
    assert len(town.reports(category="strade")) == 2
    assert [r["text"] for r in town.reports(q="tevere")] == ["Buca enorme in via Tevere"]
    page = town.call("GET", "/api/v1/reports", params={"limit": 2}).json()
    assert len(page["items"]) == 2 and page["next"]
    rest = town.call("GET", "/api/v1/reports", params={"limit": 2, "cursor": page["next"]}).json()
    assert len(rest["items"]) == 1

    newest, _, oldest = town.reports()
    merged = town.call("POST", f"/api/v1/reports/{newest['id']}/merge", json={"into": oldest["number"]})
    assert merged.status_code == 200, merged.text
    assert merged.json()["status"] == "duplicate" and merged.json()["duplicate_of"] == oldest["id"]
    assert len(town.reports(status="new")) == 2
    notes = town.call("POST", f"/api/v1/reports/{oldest['id']}/notes", json={"note": "Chiamato il cantiere"})
    assert notes.status_code == 200 and notes.json()["events"][-1]["public"] is False


def test_kpis_count_by_status_and_share_satisfied(town):
    ids = [town.call("POST", "/api/v1/reports", json={"source": "desk", "text": f"Buca numero {n}"}).json()["id"]
           for n in range(3)]
    town.step(ids[0], "triaged")
    town.step(ids[0], "assigned", team="cantonieri")
    town.step(ids[0], "resolved")
    kpis = town.call("GET", "/api/v1/reports/kpis")
    assert kpis.status_code == 200, kpis.text
    body = kpis.json()
    assert body["total"] == 3 and body["by_status"]["resolved"] == 1 and body["by_status"]["new"] == 2
    assert body["resolved_share"] == pytest.approx(1 / 3, abs=0.001)
    assert body["asked"] == 0 and body["satisfied_share"] is None  # desk reports without WhatsApp: nobody asked
    assert body["median_hours_to_first_response"] is not None
    assert town.call("GET", "/api/v1/reports/kpis", params={"from": "nonsense"}).status_code == 422


def test_erasing_a_citizen_anonymises_their_reports_and_keeps_the_report(town):
    citizen, neighbour = town.phone("+39 333 600 0001"), town.phone("+39 333 600 0002")
    citizen.text("Buca davanti al cimitero")
    wait_text(citizen, "n. ")
    send_photo(citizen, photo_jpeg())
    wait_text(citizen, "Foto aggiunta")
    report = town.wait_report(lambda r: True)
    detail = town.report(report["id"])
    assert detail["reporter"]["citizen"] == "+393336000001"
    photo_url = detail["photos"][0]["url"]

    erased = town.call("DELETE", "/api/v1/subscribers/%2B393336000001", role="admin", params={"channel": town.channel})
    assert erased.status_code == 204, erased.text
    after = town.report(report["id"])
    assert after["reporter"] is None and after["contact"] == {} and after["text"] == detail["text"]
    assert after["events"][-1]["action"] == "anonymised"
    assert [(p["status"], p["url"]) for p in after["photos"]] == [("erased", None)]
    assert requests.get(photo_url, timeout=10).status_code == 404  # gone from S3
    citizen.text("STATO 1")
    assert "Non troviamo" in wait_text(citizen, "Non troviamo|Non hai")
    neighbour.text("STATO")
    assert "Non hai segnalazioni" in wait_text(neighbour, "Non hai")


def test_desk_reporter_outside_the_window_gets_the_template_and_the_status_page_shows_no_personal_data(town, stack):
    created = town.call("POST", "/api/v1/reports", json={
        "source": "desk", "text": "Lampione spento in via Manzoni", "address": "Via Manzoni 8",
        "position": {"latitude": CENTRE[0], "longitude": CENTRE[1]},
        "contact": {"name": "Luigi Verdi", "phone": "333 700 0001", "updates_on_whatsapp": True}})
    assert created.status_code == 201, created.text
    report = created.json()
    assert report["reporter"] == {"channel": town.channel, "citizen": "+393337000001"}
    assert town.step(report["id"], "triaged", note="Segnalato alla squadra elettricisti", public=True).status_code == 200

    phone = town.phone("+39 333 700 0001")  # never wrote to the channel: outside the 24-hour window
    [update] = phone.wait_inbox(1)
    assert update["type"] == "template" and update["body"]["template"]["name"] == "aggiornamento_segnalazione"
    params = [p["text"] for p in update["body"]["template"]["components"][0]["parameters"]]
    assert params[:2] == [report["number"], "presa in carico"] and "/s/" in params[2]

    page = requests.get(params[2], timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert report["number"] in page.text and "presa in carico" in page.text and "Colle" in page.text
    assert "Segnalato alla squadra elettricisti" in page.text and "openstreetmap.org" in page.text
    assert "Luigi" not in page.text and "333" not in shown(page.text) and "Manzoni" not in page.text
    assert requests.get(f"{stack.api_url}/s/not-a-token", timeout=10).status_code == 404


def test_thanks_and_help_open_no_report(town):
    citizen = town.phone("+39 333 800 0001")
    citizen.text("Grazie!")
    assert "Grazie a te" in wait_text(citizen, "Grazie a te")
    citizen.text("aiuto")
    assert "STATO 42" in wait_text(citizen, "canale per le segnalazioni")
    assert town.reports() == []
