"""The privacy lifecycle: retention from the tenant's setting, erasure of a phone number across a comune, the
subject-access export, and no phone number in any log line of a whole scenario."""
from __future__ import annotations

import base64
import io
import itertools
import json
import logging
import re
from datetime import UTC, datetime, timedelta

import boto3
import pytest
import requests
from PIL import Image

from chalicelib.domain import subscriptions as rules
from chalicelib.domain.phones import mask
from chalicelib.domain.settings import DEFAULT_RETENTION, Retention
from chalicelib.domain.subscriptions import Citizen
from chalicelib.domain.tenancy import Channel
from chalicelib.resources import bucket_name
from chalicelib.store import audit, deliveries, directory
from chalicelib.store.models import CitizenModel, ReportModel, TenantModel
from local.seed import REPORTS, TEMPLATES, _square
from tests.integration.conftest import Phone
from tests.waiting import wait_for

_comuni = itertools.count(1)
_numbers = itertools.count(1)
CENTRE = (43.7430, 10.9460)
ALL_DAY = {"start": "00:00", "end": "23:59", "timezone": "Europe/Rome"}


class Comune:
    """A comune of its own with a broadcast, a reports and a safety channel."""

    def __init__(self, stack, retention: dict | None = None):
        n = next(_comuni)
        self.stack, self.tenant = stack, f"riservato{n}"
        self.broadcast, self.reports, self.safety = (f"70000{n:05d}0000{k}" for k in (1, 2, 3))
        settings = {
            "hamlets": [{"id": "colle", "name": "Colle", "latitude": CENTRE[0], "longitude": CENTRE[1],
                         "geometry": _square(*CENTRE)}],
            "topics": [{"id": "allerte", "name": "Allerte"}],
            "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v1", "reports": REPORTS,
            **({"retention": retention} if retention else {}),
        }
        directory.save_tenant(self.tenant, f"Comune di Riservato {n}", settings)
        update = {"report_update": {"name": "aggiornamento_segnalazione", "language": "it", "category": "utility"}}
        for channel in (
            Channel(self.broadcast, self.tenant, "broadcast", "Avvisi", "+39 0571 930001", {
                "rate_per_second": 200, "quiet_hours": {"enabled": False},
                "templates": {"notice": {"name": "avviso_comune", "language": "it", "category": "utility"}}}),
            Channel(self.reports, self.tenant, "reports", "Segnalazioni", "+39 0571 930002",
                    {"rate_per_second": 200, "templates": update}),
            Channel(self.safety, self.tenant, "safety", "Sicurezza", "+39 0571 930003", {
                "rate_per_second": 200, "registered_only": True, "watched_hours": ALL_DAY, "templates": update}),
        ):
            directory.save_channel(channel)
            stack.sandbox.add_channel({"phone_number_id": channel.phone_number_id, "kind": channel.kind,
                                       "tenant": self.tenant, "templates": TEMPLATES})
        self.tokens = {role: stack.issuer.token(self.tenant, [role])
                       for role in ("admin", "technical", "police", "communications")}
        self.tokens["dpo"] = stack.issuer.token(self.tenant, ["admin", "police"], subject="local-dpo")

    def call(self, method: str, path: str, role: str = "admin", **kwargs) -> requests.Response:
        return requests.request(method, f"{self.stack.api_url}{path}", timeout=30,
                                headers={"Authorization": f"Bearer {self.tokens[role]}"}, **kwargs)

    def phone(self, channel: str, number: str) -> Phone:
        return Phone(self.stack, channel, number)

    def subscribe(self, number: str) -> Phone:
        """ATTIVA and the confirmation on the broadcast channel: an active subscriber with a consent grant."""
        phone = self.phone(self.broadcast, number)
        phone.text("ATTIVA")
        phone.wait_inbox(1)
        phone.tap("sub:confirm", "Sì, confermo")
        phone.wait_inbox(3)
        return phone

    def resident(self, number: str) -> Phone:
        answer = self.call("POST", "/api/v1/subscribers", role="police", json={
            "channel": self.safety, "phone": number, "name": "Anna Bianchi", "address": "Via Mazzini 4", "hamlet": "colle"})
        assert answer.status_code == 201, answer.text
        return self.phone(self.safety, number)

    def reports_of(self, role: str = "technical", **params) -> list[dict]:
        answer = self.call("GET", "/api/v1/reports", role=role, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()["items"]

    def report(self, report_id: str, role: str = "technical") -> dict:
        answer = self.call("GET", f"/api/v1/reports/{report_id}", role=role)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def consents(self, e164: str) -> list[dict]:
        answer = self.call("GET", f"/api/v1/subscribers/{e164.replace('+', '%2B')}/consents")
        assert answer.status_code == 200, answer.text
        return answer.json()["items"]

    def audit(self) -> list[dict]:
        return self.call("GET", "/api/v1/audit", params={"limit": "100"}).json()["items"]


@pytest.fixture
def comune(stack):
    return Comune(stack)


def new_number() -> str:
    return f"+39 349 {next(_numbers):03d} 4455"


def e164(number: str) -> str:
    return "+" + "".join(ch for ch in number if ch.isdigit())


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "gray").save(out, "JPEG")
    return out.getvalue()


def send_photo(phone: Phone) -> None:
    phone.send(type="image", image_base64=base64.b64encode(jpeg()).decode(), mime_type="image/jpeg")


def wait_text(phone: Phone, pattern: str, timeout: float = 15) -> str:
    return wait_for(lambda: next((m.get("text") or "" for m in reversed(phone.inbox())
                                  if re.search(pattern, m.get("text") or "")), None), timeout)


def report_with_photo(comune: Comune, phone: Phone, text: str, where: tuple[float, float]) -> None:
    """A report as a citizen sends it: text, a photo, a pin."""
    before = len(phone.inbox())
    phone.text(text)
    phone.wait_inbox(before + 1)
    send_photo(phone)
    wait_text(phone, "Foto aggiunta")
    phone.send(type="location", latitude=where[0], longitude=where[1], address="Via Roma 12")
    wait_text(phone, "Posizione aggiunta|già stato segnalato|già segnalat")


def on_every_channel(comune: Comune, number: str, neighbour_number: str, tip: str) -> tuple[dict, dict]:
    """One number on every channel of the comune: a subscriber, a resident who sent a tip, and the reporter of a
    pothole a neighbour reported first (so a follower of it). Returns (the neighbour's report, theirs)."""
    comune.subscribe(number)
    comune.resident(number).text(tip)
    wait_for(lambda: comune.reports_of(role="police", kind="safety"))
    report_with_photo(comune, comune.phone(comune.reports, neighbour_number), "Buca profonda in via Roma", CENTRE)
    report_with_photo(comune, comune.phone(comune.reports, number), "Una buca enorme in via Roma",
                      (CENTRE[0] + 0.0002, CENTRE[1]))
    first, theirs = sorted(comune.reports_of(kind="report"), key=lambda r: r["id"])
    return first, theirs


def media_keys(tenant: str, report_id: str) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket_name("media"), Prefix=f"tenants/{tenant}/reports/{report_id}/")
    return [o["Key"] for o in listed.get("Contents", [])]


def citizen_record(channel: str, key: str) -> CitizenModel | None:
    try:
        return CitizenModel.get(channel, key)
    except CitizenModel.DoesNotExist:
        return None


def near(value: datetime | int | float, expected: datetime, slack: timedelta = timedelta(minutes=5)) -> bool:
    moment = datetime.fromtimestamp(value, UTC) if isinstance(value, int | float) else value
    return abs(moment - expected) <= slack


# ---- retention ----------------------------------------------------------------------------------------------

def test_retention_setting_defaults_and_validation():
    assert Retention.from_settings(None) == DEFAULT_RETENTION == Retention(30, 90, 3 * 365)
    assert Retention.from_settings({"deliveries": 60}).days("deliveries") == timedelta(days=60)
    for bad in ({"deliveries": 0}, {"deliveries": "90"}, {"closed_reports": 20 * 365}, {"messages": 5},
                {"inactive_citizens": True}, ["deliveries"]):
        with pytest.raises(ValueError):
            Retention.from_settings(bad)
    with pytest.raises(ValueError):
        directory.save_tenant("never-saved", "Comune sbagliato", {"retention": {"deliveries": -1}})
    now = datetime(2026, 11, 23, tzinfo=UTC)
    stopped = Citizen(channel_id="c", tenant_id="t", phone="+393490000000", status="stopped")
    assert rules.with_retention(stopped, now, Retention(inactive_citizens=5)).expires_at == now + timedelta(days=5)
    assert rules.with_retention(stopped, now).expires_at == now + timedelta(days=30)
    assert audit.RETENTION >= audit.MINIMUM_RETENTION >= timedelta(days=183)  # the Garante's six months


def test_records_get_their_ttl_from_the_tenant_setting(stack):
    comune = Comune(stack, retention={"inactive_citizens": 5, "deliveries": 12, "closed_reports": 40})
    number = new_number()
    citizen = comune.phone(comune.reports, number)
    citizen.text("Buca profonda davanti al municipio")
    wait_text(citizen, r"n\. \d{4}/\d+")
    now = datetime.now(UTC)

    record = wait_for(lambda: citizen_record(comune.reports, e164(number)))  # who wrote, not a subscriber
    assert near(record.expires_at, now + timedelta(days=5))
    sent = wait_for(lambda: [d for d in deliveries.of_recipient(comune.tenant, e164(number)) if d.get("recorded_at")])
    for delivery in sent:  # the receipt we sent them
        assert near(int(delivery["expires_at"]), datetime.fromisoformat(delivery["recorded_at"]) + timedelta(days=12))

    [report] = comune.reports_of()
    assert ReportModel.get(comune.tenant, report["id"]).expires_at is None  # open: kept while it is worked
    assert comune.call("POST", f"/api/v1/reports/{report['id']}/transitions", role="technical",
                       json={"to": "rejected", "note": "Non di competenza"}).status_code == 200
    closed = ReportModel.get(comune.tenant, report["id"])
    assert near(closed.expires_at, closed.updated_at + timedelta(days=40))

    TenantModel("riservato-rotto", name="Comune rotto", settings={"retention": {"deliveries": "novanta"}}).save()
    assert directory.get_tenant("riservato-rotto").retention == DEFAULT_RETENTION  # written around save_tenant

    default = Comune(stack)  # no setting: the documented defaults
    other = default.phone(default.reports, new_number())
    other.text("Lampione spento in via Verdi")
    wait_text(other, r"n\. \d{4}/\d+")
    assert near(wait_for(lambda: citizen_record(default.reports, other.e164)).expires_at,
                datetime.now(UTC) + timedelta(days=30))


# ---- erasure --------------------------------------------------------------------------------------------------

def test_erasure_of_a_phone_number_across_the_comune(comune, stack):
    number, neighbour_number = new_number(), new_number()
    key = e164(number)
    first, theirs = on_every_channel(comune, number, neighbour_number,
                                     "Auto con i finestrini rotti parcheggiata da giorni in via Dante")
    assert theirs["status"] == "duplicate" and comune.report(first["id"])["followers"] == 1
    assert media_keys(comune.tenant, theirs["id"])
    desk = comune.call("POST", "/api/v1/reports", role="technical", json={
        "source": "phone", "text": "Telefonata: cassonetto rovesciato", "contact": {"name": "Mario Neri", "phone": number}})
    assert desk.status_code == 201, desk.text

    assert comune.call("POST", "/api/v1/privacy/erase", role="technical", json={"phone": number}).status_code == 403
    assert comune.call("POST", "/api/v1/privacy/erase", role="communications", json={"phone": number}).status_code == 403
    assert comune.call("POST", "/api/v1/privacy/erase", json={"phone": "12345"}).status_code == 422
    assert comune.call("POST", "/api/v1/privacy/erase", json={"phone": number, "why": "x"}).status_code == 422
    stranger = Comune(stack)  # another comune's admin erases the number in their own comune only
    elsewhere = stranger.call("POST", "/api/v1/privacy/erase", json={"phone": number})
    assert elsewhere.status_code == 200 and elsewhere.json()["channels"] == []
    assert elsewhere.json()["reports_anonymised"] == 0
    assert comune.call("GET", f"/api/v1/subscribers/{key.replace('+', '%2B')}", role="communications",
                       params={"channel": comune.broadcast}).status_code == 200

    answer = comune.call("POST", "/api/v1/privacy/erase", json={"phone": number.replace("+39 ", "")})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["subject"] == key
    assert {(c["kind"], c["citizen_record"]) for c in body["channels"]} == {
        ("broadcast", "deleted"), ("reports", "deleted"), ("safety", "deleted")}
    assert body["reports_anonymised"] == 4  # their report, the one they follow, the desk report, the tip

    for channel in (comune.broadcast, comune.reports, comune.safety):
        assert comune.call("GET", f"/api/v1/subscribers/{key.replace('+', '%2B')}",
                           params={"channel": channel}).status_code == 404
    ledger = comune.consents(key)
    assert [(e["channel"], e["action"], e["path"]) for e in ledger if e["path"] != "erasure"] == [
        (comune.broadcast, "grant", "keyword"), (comune.safety, "grant", "staff")]  # the proof is kept
    assert {e["channel"] for e in ledger if e["path"] == "erasure"} == {comune.broadcast, comune.reports, comune.safety}

    mine = comune.report(theirs["id"])
    assert mine["reporter"] is None and mine["contact"] == {} and mine["events"][-1]["action"] == "anonymised"
    assert [p["status"] for p in mine["photos"]] == ["erased"] and media_keys(comune.tenant, theirs["id"]) == []
    followed = comune.report(first["id"])
    assert followed["followers"] == 0 and followed["reporter"]["citizen"] == e164(neighbour_number)
    assert media_keys(comune.tenant, first["id"])  # the neighbour's photo stays
    assert comune.report(desk.json()["id"])["contact"] == {}
    [tip] = comune.reports_of(role="police", kind="safety")
    assert comune.report(tip["id"], role="police")["reporter"] is None
    assert deliveries.of_recipient(comune.tenant, key) == []
    assert deliveries.of_recipient(comune.tenant, e164(neighbour_number))  # only theirs went
    erased = next(e for e in comune.audit() if e["action"] == "privacy.erase")
    assert erased["target"] == body["pseudonym"] and erased["actor"] == "local-admin"  # the number left the log


# ---- subject access -------------------------------------------------------------------------------------------

def test_subject_access_export(comune):
    number, neighbour_number = new_number(), new_number()
    key = e164(number)
    first, theirs = on_every_channel(comune, number, neighbour_number,
                                     "Schiamazzi ogni notte nel parcheggio della stazione")
    comune.report(theirs["id"])  # the technical office reads it: audited
    assert comune.call("GET", f"/api/v1/subscribers/{key.replace('+', '%2B')}", role="communications",
                       params={"channel": comune.broadcast}).status_code == 200

    assert comune.call("GET", "/api/v1/privacy/export", role="technical", params={"phone": number}).status_code == 403
    assert comune.call("GET", "/api/v1/privacy/export").status_code == 422
    assert comune.call("GET", "/api/v1/privacy/export", params={"phone": "not a phone"}).status_code == 422
    answer = comune.call("GET", "/api/v1/privacy/export", params={"phone": number})
    assert answer.status_code == 200, answer.text
    export = answer.json()
    assert (export["format"], export["subject"], export["tenant"]) == (
        "filo-diretto/subject-access/1", key, comune.tenant)

    records = {r["channel_kind"]: r for r in export["citizen_records"]}
    assert records["broadcast"]["status"] == "active" and records["broadcast"]["source"] == "keyword"
    assert records["safety"]["name"] == "Anna Bianchi" and records["safety"]["address"] == "Via Mazzini 4"
    assert records["reports"]["phone"] == key and records["reports"]["expires_at"]  # forgotten after 30 days
    assert [(c["channel"], c["action"], c["path"]) for c in export["consents"]] == [
        (comune.broadcast, "grant", "keyword"), (comune.safety, "grant", "staff")]

    reports = {r["id"]: r for r in export["reports"]}
    assert set(reports) == {first["id"], theirs["id"]}  # the tip is police-only: not in an admin's export
    own = reports[theirs["id"]]
    assert own["role"] == "reporter" and own["text"].startswith("Una buca enorme")
    assert own["position"]["latitude"] == pytest.approx(CENTRE[0] + 0.0002)
    assert [(p["status"], p["content_type"], p["stored"]) for p in own["photos"]] == [("stored", "image/jpeg", True)]
    assert {"created", "photo", "location"} <= {e["action"] for e in own["events"]}
    follows = reports[first["id"]]
    assert follows["role"] == "follower" and "text" not in follows and "photos" not in follows
    assert all(e["public"] for e in follows["events"])
    assert export["deliveries"] and {d["status"] for d in export["deliveries"]} <= {"sent", "delivered", "read"}
    actions = {(e["action"], e["target"]) for e in export["audit"]}
    assert ("report.read", theirs["id"]) in actions and ("privacy.export", key) in actions
    assert ("subscriber.read", f"{comune.broadcast}#{key}") in actions
    assert any("safety tips" in note for note in export["not_included"])

    text = json.dumps(export)
    assert "X-Amz" not in text and "original_key" not in text and "tenants/" not in text  # metadata, not photos
    assert e164(neighbour_number) not in text  # nobody else's number

    with_tips = comune.call("GET", "/api/v1/privacy/export", role="dpo", params={"phone": number}).json()
    assert {r["kind"] for r in with_tips["reports"]} == {"report", "safety"}
    assert not any("safety tips" in note for note in with_tips["not_included"])
    assert [e["actor"] for e in comune.audit() if e["action"] == "privacy.export"] == ["local-dpo", "local-admin"]


# ---- logs -----------------------------------------------------------------------------------------------------

# What runs in AWS logs through these (and the root logger at INFO for libraries); the sandbox stands for Meta
# and moto for AWS: their own logs are not the app's.
APP_LOGGERS = ("filo-diretto", "chalicelib", "aws_lambda_powertools", "filo.local")
NOT_THE_APP = ("local.sandbox", "moto", "werkzeug")


def _app_loggers() -> list[str]:
    names = [n for n in logging.root.manager.loggerDict if n.split(".")[0] in {a.split(".")[0] for a in APP_LOGGERS}]
    return sorted(set(names) | set(APP_LOGGERS))


def _record_text(record: logging.LogRecord) -> str:
    parts = [record.getMessage(), repr(record.__dict__)]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


def test_no_phone_number_reaches_the_logs(comune, caplog):
    """A whole scenario (subscribe, broadcast, report with photo and pin, staff reads, erasure) with every log
    record captured at DEBUG for the app and INFO for libraries, plus the Powertools JSON lines as emitted:
    masked numbers only (+39******55), and no provider message id (Meta's wamid encodes the sender's number)."""
    powertools = logging.getLogger("filo-diretto")
    handler = getattr(powertools, "powertools_handler", None)
    assert handler is not None, "the Powertools logger writes JSON through its own handler"
    emitted = io.StringIO()
    previous = handler.setStream(emitted)
    caplog.set_level(logging.INFO)
    for name in _app_loggers():
        caplog.set_level(logging.DEBUG, logger=name)
    number, neighbour_number = new_number(), new_number()
    try:
        subscriber = comune.subscribe(number)
        subscriber.tap("hamlet:colle", "Colle", kind="list")
        comune.resident(number)
        sent = comune.call("POST", "/api/v1/broadcasts", role="communications", json={
            "channel": comune.broadcast, "text": "Domani chiusa via Roma per lavori", "priority": "alert"})
        assert sent.status_code == 201, sent.text
        wait_text(subscriber, "chiusa via Roma")
        neighbour = comune.phone(comune.reports, neighbour_number)
        # failure paths log too: the neighbour's receipt meets 5xx answers (deferred, retried through the queue),
        # and a photo that cannot be fetched
        comune.stack.sandbox.configure(send_script={neighbour.e164: [{"code": 131000, "http_status": 500}] * 6})
        report_with_photo(comune, neighbour, "Buca profonda in via Roma", CENTRE)
        comune.stack.sandbox.configure(media_faults=3)
        send_photo(neighbour)
        wait_text(neighbour, "non serve inviarla di nuovo")  # kept pending, fetched again from the queue
        comune.stack.sandbox.configure(media_faults=0)
        citizen = comune.phone(comune.reports, number)
        report_with_photo(comune, citizen, "Una buca enorme in via Roma", (CENTRE[0] + 0.0002, CENTRE[1]))
        citizen.text("STATO")
        wait_text(citizen, "Segnalazion|segnalazion")
        for report in comune.reports_of():
            comune.report(report["id"])
            comune.call("POST", f"/api/v1/reports/{report['id']}/transitions", role="technical", json={"to": "triaged"})
        path = f"/api/v1/subscribers/{e164(number).replace('+', '%2B')}"
        assert comune.call("GET", path, role="communications", params={"channel": comune.broadcast}).status_code == 200
        assert comune.call("GET", f"{path}/consents").status_code == 200
        assert comune.call("GET", "/api/v1/subscribers", role="communications",
                           params={"channel": comune.broadcast, "q": number}).status_code == 200
        assert comune.call("GET", "/api/v1/privacy/export", params={"phone": number}).status_code == 200
        assert comune.call("POST", "/api/v1/privacy/erase", json={"phone": number}).status_code == 200
        before = len(subscriber.inbox())
        subscriber.text("ATTIVA")  # a message after the erasure starts over
        subscriber.wait_inbox(before + 1)
    finally:
        handler.setStream(previous)
        comune.stack.sandbox.configure(send_script={}, media_faults=0)

    records = [r for r in caplog.records if not r.name.startswith(NOT_THE_APP)]
    assert records, "nothing was logged: the capture does not work"
    json_lines = emitted.getvalue()
    texts = [(r.name, _record_text(r)) for r in records] + [("powertools-json", json_lines)]
    for raw in (number, neighbour_number):
        forms = {e164(raw), e164(raw)[1:], e164(raw)[3:], raw}  # +39349..., 39349... (wa_id), 349..., as written
        leaks = [(name, form) for name, text in texts for form in forms if form in text]
        assert not leaks, f"phone number in the logs: {leaks[:5]}"
    ids = [(name, text[text.index("wamid."):][:40]) for name, text in texts if "wamid." in text]
    assert not ids, f"provider message ids (they encode the number) in the logs: {ids[:5]}"
    assert mask(e164(number)) in json_lines  # the JSON lines were captured, and name the citizen masked
    assert {"send deferred", "photo fetch failed", "photo re-fetched"} <= {r.getMessage() for r in records}  # failure paths ran


def test_photos_of_a_report_that_expired_are_swept_and_others_stay(comune):
    from chalicelib.services.reports import media_retention

    kept, expiring = comune.phone(comune.reports, new_number()), comune.phone(comune.reports, new_number())
    report_with_photo(comune, kept, "Lampione spento in piazza", CENTRE)
    report_with_photo(comune, expiring, "Rifiuti abbandonati al parco", (CENTRE[0] + 0.01, CENTRE[1]))
    ours = {r["text"][:8]: r["id"] for r in comune.reports_of(kind="report")}
    gone, stays = ours["Rifiuti "], ours["Lampione"]
    assert media_keys(comune.tenant, gone) and media_keys(comune.tenant, stays)
    ReportModel.get(comune.tenant, gone).delete()  # what DynamoDB's TTL does when retention.closed_reports runs out
    swept = media_retention.sweep(older_than=datetime.now(UTC) + timedelta(minutes=1))
    assert media_keys(comune.tenant, gone) == [] and len(media_keys(comune.tenant, stays)) == 2
    assert swept["deleted"] >= 2 and swept["orphan_folders"] >= 1
    young = media_retention.sweep()  # the default grace: folders younger than a day are never judged
    assert young == {"folders": 0, "orphan_folders": 0, "deleted": 0} and len(media_keys(comune.tenant, stays)) == 2
