"""Joining Vicinato from the citizen portal (issue 16): the form's request reaches the police only after the number's
owner confirms on WhatsApp; unconfirmed ones and their ID photo expire; bad input is refused in Italian.

Own comuni (ids vicino<n>, channels 47...: the Watch of test_vicinato), citizen numbers +39 346 41x xxxx."""
from __future__ import annotations

import base64
import itertools
from datetime import UTC, datetime, timedelta

import requests

from chalicelib.services import clock
from tests.integration.conftest import Phone
from tests.integration.test_vicinato import Watch, jpeg, step
from tests.waiting import wait_for

_numbers = itertools.count(1)


def _phone(watch: Watch) -> Phone:
    return Phone(watch.stack, watch.channel, f"+39 346 41{watch.block} {next(_numbers):04d}")


def _form(who: Phone, **changes) -> dict:
    return {"zone": "nord", "name": "Anna Bruni", "address": "Via Roma 21", "phone": who.number, "consent": True,
            "notice_version": "v3", "id_photo": "data:image/jpeg;base64," + base64.b64encode(jpeg()).decode(),
            **changes}


def _post(watch: Watch, body: dict, tenant: str | None = None) -> requests.Response:
    return requests.post(f"{watch.stack.api_url}/public/v1/{tenant or watch.tenant}/vicinato/requests", json=body,
                         timeout=30)


def _template(phone: Phone) -> dict:
    return wait_for(lambda: next((m for m in phone.inbox() if m["type"] == "template"), None), 15)


def test_a_portal_request_reaches_the_police_only_once_its_number_confirms_on_whatsapp(stack, monkeypatch):
    watch = Watch(stack, id_required=True, id_photo_days=0)
    setup = requests.get(f"{stack.api_url}/public/v1/{watch.tenant}/vicinato", timeout=10)
    assert setup.status_code == 200
    assert setup.json() == {"open": True, "id_required": True, "confirm_hours": 48,
                            "zones": [{"id": "nord", "name": "Nord"}, {"id": "sud", "name": "Sud"}],
                            "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v3"}

    # bad input: a 4xx with the field and an Italian message, nothing stored, nothing sent
    anna, other = _phone(watch), _phone(watch)
    refusals = {
        "zone": _form(anna, zone="est"), "name": _form(anna, name="Anna"), "phone": _form(anna, phone="12"),
        "id_photo": _form(anna, id_photo=base64.b64encode(b"not an image at all").decode()),
        "consent": _form(anna, consent=False),
    }
    for field, body in refusals.items():
        answer = _post(watch, body)
        assert answer.status_code == 422, (field, answer.text)
        assert [d["field"] for d in answer.json()["error"]["details"]] == [field], answer.text
    missing = dict(_form(anna))
    missing.pop("id_photo")
    assert _post(watch, missing).json()["error"]["details"][0]["message"].startswith("Allega una foto del tuo documento")
    assert _post(watch, _form(anna, consent="true")).status_code in (400, 422)  # only a JSON true is consent
    assert _post(watch, _form(anna), tenant="nessuno").status_code == 404
    assert _post(watch, {**_form(anna), "photo": "x"}).status_code in (400, 422)

    # a good request: the number gets the safety channel's template, whose tap brings the confirmation buttons
    answer = _post(watch, _form(anna))
    assert answer.status_code == 202, answer.text
    assert "WhatsApp" in answer.json()["message"]
    _post(watch, _form(other, name="Bruno Neri", zone="sud"))  # never confirmed
    _template(anna)
    _template(other)
    assert watch.call("GET", "/api/v1/vicinato/requests").json()["items"] == []  # not before the tap
    ask = step(anna, lambda: anna.tap("vic:news", "Leggi", kind="quick_reply"), "dal sito del comune")
    buttons = [b["reply"]["id"] for b in ask["body"]["interactive"]["action"]["buttons"]]
    assert buttons == ["vic:webjoin:yes", "vic:webjoin:no"]
    assert "112" in ask["text"] and "versione v3" in ask["text"]
    step(anna, lambda: anna.tap("vic:webjoin:yes", "Confermo"), "Richiesta inviata")

    [pending] = watch.call("GET", "/api/v1/vicinato/requests").json()["items"]
    assert (pending["name"], pending["address"], pending["zone"], pending["phone"], pending["source"],
            pending["id_photo"], pending["notice_version"]) == \
        ("Anna Bruni", "Via Roma 21", "nord", anna.e164, "web", True, "v3")
    person = f"{watch.channel}.{anna.e164}"
    link = watch.call("GET", f"/api/v1/vicinato/people/{person}/id-photo").json()["url"]
    assert requests.get(link, timeout=10).content == jpeg()
    consents = watch.call("GET", f"/api/v1/subscribers/{anna.e164}/consents", params={"channel": watch.channel})
    assert [(c["purpose"], c["action"], c["notice_version"]) for c in consents.json()["items"]] == \
        [("vicinato", "grant", "v3")]

    # asking again while pending: the same answer to the form; the number's owner is told on WhatsApp
    assert _post(watch, _form(anna)).status_code == 202
    wait_for(lambda: any("in attesa della Polizia Locale" in (m.get("text") or "") for m in anna.inbox()), 15)

    # the unconfirmed one: its photo and record are gone after 48 hours; a late tap finds nothing to confirm
    monkeypatch.setattr(clock, "now", lambda: datetime.now(UTC) + timedelta(hours=49))
    watch.schedule("sweep_vicinato_photos").fire()
    step(other, lambda: other.tap("vic:webjoin:yes", "Confermo"), "nessuna richiesta di adesione da confermare")
    monkeypatch.undo()
    assert [p["name"] for p in watch.call("GET", "/api/v1/vicinato/requests").json()["items"]] == ["Anna Bruni"]
    gone = watch.call("GET", f"/api/v1/vicinato/people/{watch.channel}.{other.e164}/id-photo")
    assert gone.status_code == 404

    # the police approve the web request as any other
    assert watch.approve(anna)["status"] == "active"
    wait_for(lambda: any("Benvenuto" in (m.get("text") or "") for m in anna.inbox()), 15)
