"""A handful of demo reports (and a few subscribers) for make dev, filed the way real ones are: citizens write on
the sandbox's reports channel (text, position, a photo) and the office moves some of them along through the staff
API; the residents come in as a CSV import.

Every number, name and place is made up; positions fall inside the demo comune's hamlets.
"""
from __future__ import annotations

import base64
import io
import json
import time
import urllib.parse
import urllib.request

from chalicelib.domain.access import Role
from local.seed import CHANNELS, TENANT_ID

REPORTS_CHANNEL = next(c.phone_number_id for c in CHANNELS if c.kind == "reports")
BROADCAST_CHANNEL = next(c.phone_number_id for c in CHANNELS if c.kind == "broadcast")
# residents who gave the comune their consent on paper (made-up numbers): phone, hamlets, topics
SUBSCRIBERS = "phone,hamlets,topics\n333 000 0201,pieve,\n333 000 0202,pieve,allerte;viabilita\n" \
              "333 000 0203,capoluogo,\n333 000 0204,santandrea,eventi\n333 000 0205,pontenuovo,\n333 000 0206,,\n"
# (citizen number, text, position, photo?, what the office has done so far)
DEMO = [
    ("+39 333 000 0101", "Buca profonda in via Roma davanti al civico 12, pericolosa per le bici",
     (43.7446, 10.9441), True, []),
    ("+39 333 000 0102", "Lampione spento in piazza della Chiesa da tre sere",
     (43.7196, 10.9452), False, [{"to": "triaged", "note": "Verifichiamo con il gestore dell'illuminazione."}]),
    ("+39 333 000 0103", "Rami caduti nel parco giochi dopo il temporale",
     (43.7203, 10.9712), True, [{"to": "assigned", "note": "La squadra verde interviene domattina."}]),
    ("+39 333 000 0104", "Tombino intasato in via del Mulino, quando piove si forma un allagamento",
     (43.6946, 10.9477), False, [{"to": "forwarded", "external_reference": "CB-2026-311",
                                  "note": "Inoltrata al Consorzio di bonifica, competente per i fossi."}]),
    ("+39 333 000 0105", "Cassonetto rotto e spazzatura sparsa in via dei Tigli",
     (43.7178, 10.9441), False, [{"to": "assigned"}, {"to": "resolved", "note": "Cassonetto sostituito, area pulita."}]),
]
DESK = {"source": "phone", "text": "Cartello di stop piegato all'incrocio tra via Verdi e via Puccini",
        "category": "segnaletica", "hamlet": "santandrea", "address": "Incrocio via Verdi / via Puccini",
        "position": {"latitude": 43.7181, "longitude": 10.9689}, "contact": {"name": "Segnalazione telefonica"}}


def demo_photo() -> bytes:
    """A small made-up picture (grey road, dark pothole) as a JPEG."""
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (480, 320), (150, 150, 150))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, 220, 480, 320), fill=(110, 110, 105))
    draw.ellipse((170, 130, 320, 200), fill=(45, 40, 38))
    draw.line((0, 160, 480, 160), fill=(235, 235, 235), width=6)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=80)
    return out.getvalue()


class _Client:
    def __init__(self, stack):
        self.stack = stack
        self.token = stack.issuer.token(TENANT_ID, [Role.ADMIN], subject=stack.staff_sign_in.subjects[Role.ADMIN])

    def inbound(self, number: str, **message) -> None:
        self._call(f"{self.stack.sandbox_url}/_sandbox/inbound",
                   {"channel": REPORTS_CHANNEL, "from": number, **message})

    def api(self, path: str, body: dict | None = None, csv: str | None = None) -> dict:
        return self._call(f"{self.stack.api_url}{path}", body, {"Authorization": f"Bearer {self.token}"}, csv)

    @staticmethod
    def _call(url: str, body: dict | None, headers: dict | None = None, csv: str | None = None) -> dict:
        data = csv.encode() if csv is not None else json.dumps(body).encode() if body is not None else None
        kind = "text/csv" if csv is not None else "application/json"
        request = urllib.request.Request(url, data=data, headers={"Content-Type": kind, **(headers or {})},
                                         method="POST" if data is not None else "GET")
        with urllib.request.urlopen(request, timeout=20) as answer:
            return json.loads(answer.read() or b"{}")

    def filed(self, text: str) -> bool:
        """Whether a report with this text is there already."""
        return bool(self.api("/api/v1/reports?" + urllib.parse.urlencode({"q": text}))["items"])

    def find(self, words: str, until, timeout: float = 20.0) -> dict:
        """The report whose text has these words, once until(report) holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            items = self.api("/api/v1/reports?" + urllib.parse.urlencode({"q": words}))["items"]
            if items and until(items[0]):
                return items[0]
            time.sleep(0.2)
        raise RuntimeError(f"the demo report {words!r} did not arrive")


def seed_demo_reports(stack) -> list[str]:
    """File the demo reports through the sandbox and the staff API, and import a few residents on the broadcast
    channel; returns the numbers of the reports filed now. Once only: a demo report already there (make dev keeps
    its data between restarts) is not filed again, and the residents come only with the first filing."""
    client = _Client(stack)
    missing = [demo for demo in DEMO if not client.filed(demo[1])]
    if len(missing) == len(DEMO):
        client.api(f"/api/v1/subscribers/import?channel={BROADCAST_CHANNEL}", csv=SUBSCRIBERS)
    numbers = [_file(client, *demo) for demo in missing]
    if not client.filed(DESK["text"]):
        numbers.append(client.api("/api/v1/reports", DESK)["number"])
    return numbers


def _file(client: _Client, number: str, text: str, position: tuple[float, float], with_photo: bool,
          steps: list[dict]) -> str:
    """One citizen's report on WhatsApp (text, position, maybe a photo), then the office's steps."""
    words = " ".join(text.split()[:3])
    latitude, longitude = position
    client.inbound(number, type="text", text=text)
    client.find(words, lambda r: True)
    client.inbound(number, type="location", latitude=latitude, longitude=longitude)
    if with_photo:
        client.inbound(number, type="image", image_base64=base64.b64encode(demo_photo()).decode(),
                       mime_type="image/jpeg")
    report = client.find(words, lambda r: r["location"] and (r["photos"] or not with_photo))
    for step in steps:
        client.api(f"/api/v1/reports/{report['id']}/transitions", step)
    return report["number"]
