"""Closing the loop (issue 14, item 10), through HTTP and the sandbox: a resolved report asks its citizen «Risolto» /
«Non risolto» (buttons in the 24-hour window, the declared template outside it), a «Non risolto» reopens it, the KPI
"soddisfatti" counts the answers; a forwarded report's email carries a private, signed, expiring link where the
external body posts its status, which reaches the console's timeline and, when public, the citizen."""
from __future__ import annotations

import itertools
import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests

from chalicelib.domain.tenancy import Channel
from chalicelib.settings import get_settings
from chalicelib.store import audit, directory
from local.seed import REPORTS, TEMPLATES, _square, template_setting
from tests.integration.conftest import Phone
from tests.leaks import shown
from tests.waiting import wait_for

_towns = itertools.count(1)
_numbers = itertools.count(1)
CENTRE = (43.7430, 10.9460)
YEAR = datetime.now(ZoneInfo("Europe/Rome")).year


class Town:
    """A comune of its own whose reports channel has the update and the feedback templates approved."""

    def __init__(self, stack, feedback_template: bool = True):
        n = next(_towns)
        self.stack, self.tenant = stack, f"anello{n}"
        self.channel = f"3300000000{n:05d}"  # a prefix of its own: test_console_api has 31...
        directory.save_tenant(self.tenant, f"Comune di Anello {n}", {
            "hamlets": [{"id": "colle", "name": "Colle", "latitude": CENTRE[0], "longitude": CENTRE[1],
                         "geometry": _square(*CENTRE)}],
            "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v1",
            "reports": {**REPORTS, "external_link_days": 10},
        })
        templates = {"report_update": template_setting("aggiornamento_segnalazione")}
        if feedback_template:
            templates["report_feedback"] = template_setting("esito_segnalazione")
        directory.save_channel(Channel(self.channel, self.tenant, "reports", "Segnalazioni", "+39 0571 920000", {
            "rate_per_second": 200, "templates": templates}))
        stack.sandbox.add_channel({"phone_number_id": self.channel, "kind": "reports", "tenant": self.tenant,
                                   "templates": TEMPLATES})
        self.token = stack.issuer.token(self.tenant, ["technical"])

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.stack.api_url}{path}", timeout=30,
                                headers={"Authorization": f"Bearer {self.token}"}, **kwargs)

    def phone(self) -> Phone:
        return Phone(self.stack, self.channel, f"+39 333 9{next(_numbers):06d}")

    def report(self, report_id: str) -> dict:
        answer = self.call("GET", f"/api/v1/reports/{report_id}")
        assert answer.status_code == 200, answer.text
        return answer.json()

    def step(self, report_id: str, to: str, **body) -> dict:
        answer = self.call("POST", f"/api/v1/reports/{report_id}/transitions", json={"to": to, **body})
        assert answer.status_code == 200, answer.text
        return answer.json()

    def resolve(self, report_id: str) -> None:
        self.step(report_id, "triaged")
        self.step(report_id, "assigned", team="cantonieri")
        self.step(report_id, "resolved", note="Buca chiusa")

    def filed_by(self, phone: Phone, text: str) -> dict:
        phone.text(text)
        wait_text(phone, r"n\. \d{4}/\d+")
        items = self.call("GET", "/api/v1/reports").json()["items"]
        return next(r for r in items if r["text"] == text)

    def kpis(self) -> dict:
        answer = self.call("GET", "/api/v1/reports/kpis")
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture
def town(stack):
    return Town(stack)


def texts(phone: Phone) -> list[str]:
    return [m.get("text") or "" for m in phone.inbox()]


def wait_text(phone: Phone, pattern: str, timeout: float = 15) -> str:
    return wait_for(lambda: next((t for t in reversed(texts(phone)) if re.search(pattern, t)), None), timeout)


def wait_question(phone: Phone) -> dict:
    """The newest message with «Risolto» / «Non risolto» to tap."""
    def found():
        return next((m for m in reversed(phone.inbox())
                     if [o["title"] for o in m.get("options") or []] == ["Risolto", "Non risolto"]), None)
    return wait_for(found, 15)


def tap(phone: Phone, message: dict, title: str) -> None:
    option = next(o for o in message["options"] if o["title"] == title)
    phone.tap(option["id"], option["title"], kind=option["kind"])


def test_in_the_window_buttons_and_non_risolto_reopens_once_and_tells_staff(town):
    citizen = town.phone()
    report = town.filed_by(citizen, "Buca profonda in via Roma davanti al forno")
    town.resolve(report["id"])

    question = wait_question(citizen)
    assert question["type"] == "interactive" and question["options"][0]["kind"] == "button"
    assert "risolta" in wait_text(citizen, "Buca chiusa")  # the update itself came too, before the question

    before = len(citizen.inbox())
    tap(citizen, question, "Non risolto")
    assert "abbiamo riaperto la segnalazione" in wait_text(citizen, "riaperto")
    detail = town.report(report["id"])
    assert detail["status"] == "in_progress" and detail["resolved_at"] is None
    reopened = detail["events"][-1]
    assert (reopened["actor"], reopened["status"], reopened["public"]) == ("citizen", "in_progress", False)
    assert "Non risolto" in reopened["note"]
    listed = next(r for r in town.call("GET", "/api/v1/reports", params={"status": "in_progress"}).json()["items"]
                  if r["id"] == report["id"])
    assert listed["reopened_by_citizen"] is True  # the office's list says so
    assert detail["feedback"] == {"asked": 1, "satisfied": 0, "not_satisfied": 1}

    tap(citizen, question, "Non risolto")  # a second tap
    assert "già registrato" in wait_text(citizen, "già registrato")
    tap(citizen, question, "Risolto")  # changing one's mind on the same question is a second answer too
    citizen.wait_inbox(before + 3)
    again = town.report(report["id"])
    assert again["status"] == "in_progress" and len(again["events"]) == len(detail["events"])


def test_risolto_records_satisfaction_apart_from_resolved(town):
    happy, unhappy = town.phone(), town.phone()
    first = town.filed_by(happy, "Lampione spento in via Verdi")
    second = town.filed_by(unhappy, "Rifiuti abbandonati vicino al cassonetto di via Bianchi")
    town.resolve(first["id"])
    town.resolve(second["id"])
    tap(happy, wait_question(happy), "Risolto")
    assert "è risolto" in wait_text(happy, "Grazie per la risposta")
    tap(unhappy, wait_question(unhappy), "Non risolto")
    wait_text(unhappy, "riaperto")

    assert town.report(first["id"])["status"] == "resolved"
    kpis = town.kpis()
    assert (kpis["asked"], kpis["satisfied"], kpis["not_satisfied"]) == (2, 1, 1)
    assert kpis["satisfied_share"] == 0.5
    assert (kpis["resolved"], kpis["considered"], kpis["resolved_share"]) == (1, 2, 0.5)


def test_outside_the_window_the_declared_template_asks_with_quick_replies(town):
    created = town.call("POST", "/api/v1/reports", json={
        "source": "phone", "text": "Telefonata: buca in via Manzoni",
        "contact": {"phone": "333 930 0001", "updates_on_whatsapp": True}})
    assert created.status_code == 201, created.text
    report = created.json()
    town.resolve(report["id"])

    citizen = Phone(town.stack, town.channel, "+39 333 930 0001")  # never wrote: outside the 24-hour window
    question = wait_question(citizen)
    assert question["type"] == "template" and question["body"]["template"]["name"] == "esito_segnalazione"
    assert {o["kind"] for o in question["options"]} == {"quick_reply"}
    params = [p["text"] for p in question["body"]["template"]["components"][0]["parameters"]]
    assert params[0] == report["number"] and "/s/" in params[1]
    tap(citizen, question, "Risolto")
    wait_text(citizen, "Grazie per la risposta")
    assert town.kpis()["satisfied"] == 1


def test_without_the_template_the_plain_update_goes_and_nobody_is_asked(stack):
    town = Town(stack, feedback_template=False)
    created = town.call("POST", "/api/v1/reports", json={
        "source": "phone", "text": "Telefonata: rami sulla strada",
        "contact": {"phone": "333 931 0001", "updates_on_whatsapp": True}}).json()
    town.resolve(created["id"])
    citizen = Phone(town.stack, town.channel, "+39 333 931 0001")
    [update] = citizen.wait_inbox(1)
    assert update["body"]["template"]["name"] == "aggiornamento_segnalazione" and not update["options"]
    assert town.kpis()["asked"] == 0 and town.kpis()["satisfied_share"] is None


def test_a_tap_on_a_question_not_theirs_changes_nothing(town):
    citizen, stranger = town.phone(), town.phone()
    report = town.filed_by(citizen, "Segnaletica abbattuta all'incrocio")
    town.resolve(report["id"])
    question = wait_question(citizen)
    before = town.report(report["id"])

    tap(stranger, question, "Non risolto")  # the same payload, from another number
    assert "Non troviamo questa domanda" in wait_text(stranger, "Non troviamo")
    stranger.tap(f"fb:{report['id']}:999:n", "Non risolto")  # a round that never was
    stranger.tap("fb:nonsense", "Non risolto")
    stranger.wait_inbox(3)
    after = town.report(report["id"])
    assert after["status"] == "resolved" and after["events"] == before["events"]
    assert not [m for m in stranger.inbox() if "ricevuta" in (m.get("text") or "")]  # no report opened for it


# ---- the external body's link -------------------------------------------------------------------------------------

def _sent_emails():
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return ses_backends[DEFAULT_ACCOUNT_ID]["eu-south-1"].sent_messages


def forwarded(town: Town, citizen: Phone) -> tuple[dict, str]:
    report = town.filed_by(citizen, "Il fosso lungo via dei Campi è intasato")
    town.step(report["id"], "forwarded", external_body="consorzio")
    [email] = [m for m in _sent_emails() if f"Segnalazione {report['number']}:" in m.subject
               and f"/x/{town.tenant}/" in m.body]
    link = re.search(r"(http\S+/x/\S+)", email.body).group(1)
    assert "valido 10 giorni" in email.body  # the comune's setting
    return report, link


def test_the_external_body_posts_through_its_link_and_the_citizen_hears_it(town):
    citizen = town.phone()
    report, link = forwarded(town, citizen)
    wait_text(citizen, "inoltrata a Consorzio")

    page = requests.get(link, timeout=10)  # no login
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert report["number"] in page.text and "intasato" in page.text and "Consorzio di bonifica Esempio" in page.text
    assert citizen.e164 not in page.text.replace(" ", "") and "333" not in shown(page.text)  # never the citizen
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Referrer-Policy"] == "no-referrer"

    before = len(citizen.inbox())
    missing = requests.post(link, data={"note": "Sopralluogo fissato"}, timeout=10)  # no status: nothing lost
    assert missing.status_code == 422 and "Scegliete uno stato" in missing.text and "Sopralluogo fissato" in missing.text

    private = requests.post(link, data={"status": "taken", "reference": "CB-2026-77", "note": "Squadra avvisata"},
                            timeout=10)
    assert private.status_code == 200 and "Aggiornamento registrato" in private.text  # after the redirect
    posted = requests.post(link, data={"status": "resolved", "note": "Fosso pulito stamattina", "public": "1"},
                           timeout=10)
    assert posted.status_code == 200 and "Fosso pulito stamattina" in posted.text

    heard = wait_text(citizen, "Consorzio di bonifica Esempio comunica")
    assert "«risolto»" in heard and "Fosso pulito stamattina" in heard
    assert not any("Squadra avvisata" in t for t in citizen.settle()[before:] for t in [t.get("text") or ""])

    detail = town.report(report["id"])
    posts = [e for e in detail["events"] if e["action"] == "external_update"]
    assert [(p["actor"], p["data"]["external_status"], p["public"]) for p in posts] == [
        ("external:consorzio", "taken", False), ("external:consorzio", "resolved", True)]
    assert detail["external"]["reference"] == "CB-2026-77" and detail["external"]["status"] == "resolved"
    assert detail["status"] == "forwarded"  # the comune decides when its report is resolved
    entries = [e for e in audit.recent(town.tenant) if e.action == "report.external_update"]
    assert len(entries) == 2 and {e.actor for e in entries} == {"external:consorzio"}


def test_a_tampered_another_reports_or_expired_link_is_refused_in_italian(town):
    report, link = forwarded(town, town.phone())
    other, _ = forwarded(town, town.phone())
    base, token = link.rsplit("/", 1)

    tampered = requests.get(f"{base}/{token[:-3]}abc", timeout=10)
    assert tampered.status_code == 403 and "non è valido" in tampered.text and 'lang="it"' in tampered.text
    elsewhere = requests.get(link.replace(f"/{report['id']}/", f"/{other['id']}/"), timeout=10)
    assert elsewhere.status_code == 403 and other["number"] not in elsewhere.text
    assert requests.post(link.replace(f"/{report['id']}/", f"/{other['id']}/"), data={"status": "resolved"},
                         timeout=10).status_code == 403
    other_comune = requests.get(link.replace(f"/x/{town.tenant}/", "/x/demo/"), timeout=10)
    assert other_comune.status_code == 403

    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    class SignedEarlier(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - 11 * 86400  # the town's links last 10 days

    detail = town.report(report["id"])
    old = URLSafeTimedSerializer(get_settings().link_secret(), salt=f"filo-external-link/{town.tenant}",
                                 signer=SignedEarlier).dumps(
        {"r": report["id"], "b": "consorzio", "f": detail["external"]["forwarded_at"]})
    assert requests.get(link, timeout=10).status_code == 200  # the link as sent still works
    expired = requests.get(f"{base}/{old}", timeout=10)
    assert expired.status_code == 410 and "scaduto" in expired.text
    assert requests.post(f"{base}/{old}", data={"status": "resolved"}, timeout=10).status_code == 410

    town.step(report["id"], "assigned", team="cantonieri")  # taken back, then forwarded again: a new link
    town.step(report["id"], "forwarded", external_body="provincia")
    replaced = requests.get(link, timeout=10)
    assert replaced.status_code == 410 and "non è più attivo" in replaced.text
    assert not [e for e in town.report(report["id"])["events"] if e["action"] == "external_update"]


def test_the_link_is_rate_limited_per_client_like_the_other_public_pages(town, monkeypatch):
    from chalicelib.api import reports as routes
    from chalicelib.services import abuse

    _, link = forwarded(town, town.phone())
    monkeypatch.setattr(routes, "EXTERNAL_PER_CLIENT", abuse.Limit(f"external-link-test-{town.tenant}", 2, 3600))
    assert [requests.get(link, timeout=10).status_code for _ in range(2)] == [200, 200]
    limited = requests.get(link, timeout=10)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert "Troppe richieste" in limited.text and 'lang="it"' in limited.text
