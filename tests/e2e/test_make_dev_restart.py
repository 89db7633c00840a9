"""make dev as a place to work: data and secrets kept between restarts, after a crash too, and a clean start on request."""
from __future__ import annotations

import base64
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from local.demo_reports import DEMO, demo_photo
from local.devserver import free_port
from tests.waiting import wait_for

pytestmark = pytest.mark.long  # started first by make test (tests/conftest.py)

ROOT = Path(__file__).resolve().parents[2]
DEMO_REPORT_COUNT = len(DEMO) + 1  # the citizens' ones and the desk report


class DevServer:
    """One `python -m local.devserver` on free ports, keeping its state under `folder` (FILO_STATE_FILE's)."""

    def __init__(self, folder: Path, **env: str):
        self.state_file = folder / "dev.json"
        self.output = folder / f"output-{time.monotonic_ns()}.txt"
        self.state_file.unlink(missing_ok=True)
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("FILO_")}  # no fixed password etc.
        environment = {**inherited, "FILO_API_PORT": str(free_port()), "FILO_SANDBOX_PORT": str(free_port()),
                       "FILO_MOTO_PORT": str(free_port()), "FILO_WEB_PORT": str(free_port()),
                       "FILO_ALERTS_PORT": str(free_port()), "FILO_STATE_FILE": str(self.state_file), **env}
        with self.output.open("w") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "local.devserver"], cwd=ROOT, env=environment,
                                            stdout=out, stderr=subprocess.STDOUT, text=True)
        wait_for(lambda: self.state_file.exists() or self.process.poll() is not None, timeout=90)
        assert self.process.poll() is None, self.output.read_text()
        self.state = json.loads(self.state_file.read_text())

    def stop(self, how: signal.Signals = signal.SIGINT) -> int:
        self.process.send_signal(how)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise

    def kill_if_running(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def servers():
    started: list[DevServer] = []

    def start(folder: Path, **env: str) -> DevServer:
        started.append(DevServer(folder, **env))
        return started[-1]
    yield start
    for server in started:
        server.kill_if_running()


def staff(state: dict, token: str, path: str, **params) -> requests.Response:
    return requests.get(f"{state['api_url']}{path}", params=params, timeout=10,
                        headers={"Authorization": f"Bearer {token}"})


def channel(state: dict, kind: str) -> str:
    return next(c["phone_number_id"] for c in state["channels"] if c["kind"] == kind)


def inbound(state: dict, kind: str, number: str, **message) -> None:
    answer = requests.post(f"{state['sandbox_url']}/_sandbox/inbound", timeout=10,
                           json={"channel": channel(state, kind), "from": number, **message})
    assert answer.json()["webhook_status"] == 200, answer.text


def subscribe(state: dict, number: str) -> None:
    """ATTIVA and the confirmation, until the staff API lists the number as active."""
    inbound(state, "broadcast", number, type="text", text="ATTIVA")
    wait_for(lambda: requests.get(f"{state['sandbox_url']}/_sandbox/messages", params={"to": number}, timeout=5).json())
    inbound(state, "broadcast", number, type="button", id="sub:confirm", title="Sì, confermo")
    wait_for(lambda: is_subscribed(state, state["tokens"]["communications"], number))


def is_subscribed(state: dict, token: str, number: str) -> bool:
    listed = staff(state, token, "/api/v1/subscribers", channel=channel(state, "broadcast"), status="active")
    assert listed.status_code == 200, listed.text
    return number in [s["phone"] for s in listed.json()["items"]]


def kept_as_active(snapshot: Path, number: str) -> bool:
    """Whether make dev's snapshot holds the number as an active subscriber (the fan-out index's key set)."""
    try:
        citizens = json.loads(snapshot.read_text())["tables"]["citizens"]
    except FileNotFoundError:
        return False
    return any(c["citizen_key"] == {"S": number} and "active_channel" in c for c in citizens)


def report_with_photo(state: dict, number: str, text: str) -> dict:
    """A citizen's report on WhatsApp with a photo, once the photo is in S3."""
    inbound(state, "reports", number, type="text", text=text)
    inbound(state, "reports", number, type="image", mime_type="image/jpeg",
            image_base64=base64.b64encode(demo_photo()).decode())
    return wait_for(lambda: next((r for r in reports(state, state["tokens"]["technical"], q=text)
                                  if r["photos"]), None), timeout=20)


def reports(state: dict, token: str, **params) -> list[dict]:
    answer = staff(state, token, "/api/v1/reports", **params)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def photo_bytes(state: dict, token: str, report: dict) -> bytes:
    """The first photo of a report, through the presigned link the staff API gives."""
    detail = staff(state, token, f"/api/v1/reports/{report['id']}").json()
    return requests.get(detail["photos"][0]["url"], timeout=10).content


def sign_in(state: dict, password: str) -> requests.Response:
    return requests.post(state["console_url"].replace("/console/", "/local-auth/token"), timeout=5,
                         json={"username": "technical", "password": password})


def test_a_restart_keeps_data_secrets_and_tokens(tmp_path, servers):
    first = servers(tmp_path)
    before = first.state
    number, text = "+393470077001", "Panchina rotta nel giardino della scuola"
    subscribe(before, number)
    filed = report_with_photo(before, "+393470077002", text)
    photo = photo_bytes(before, before["tokens"]["technical"], filed)
    console_token = sign_in(before, before["staff_password"]).json()["id_token"]  # an open console tab's token
    admin = {"Authorization": f"Bearer {before['tokens']['admin']}"}
    settings = requests.get(f"{before['api_url']}/api/v1/settings", headers=admin, timeout=5).json()
    topics = settings["sections"]["topics"] + [{"id": "mercato", "name": "Mercato settimanale"}]
    saved = requests.put(f"{before['api_url']}/api/v1/settings/topics", headers=admin, timeout=5,
                         json={"version": settings["version"], "value": topics})
    assert saved.status_code == 200, saved.text
    staff_before = sorted((m["name"], m["id"]) for m in staff(before, before["tokens"]["admin"], "/api/v1/staff").json()["items"])
    assert first.stop() == 0

    for private in ("dev.json", "secrets.json"):  # the password and the keys that sign staff tokens
        assert stat.S_IMODE((tmp_path / private).stat().st_mode) == 0o600, private
    after = servers(tmp_path).state
    for secret in ("staff_password", "app_secret", "verify_token", "open311_api_key"):
        assert after[secret] == before[secret], secret
    assert sign_in(after, before["staff_password"]).status_code == 200
    for token in (console_token, before["tokens"]["technical"]):  # tokens issued before the restart still work
        assert staff(after, token, "/api/v1/me").status_code == 200
    assert is_subscribed(after, before["tokens"]["communications"], number)
    kept = reports(after, console_token, q=text)
    assert [r["number"] for r in kept] == [filed["number"]]
    assert photo_bytes(after, console_token, kept[0]) == photo  # the photo, from S3
    everything = reports(after, console_token)
    assert len(everything) == DEMO_REPORT_COUNT + 1  # the demo reports were filed once, not again
    ledger = staff(after, before["tokens"]["communications"], f"/api/v1/subscribers/{quote(number)}/consents")
    assert [e["action"] for e in ledger.json()["items"]] == ["grant"]
    tenant = staff(after, before["tokens"]["admin"], "/api/v1/tenant").json()  # the admin's change, not the seed's
    assert "mercato" in [t["id"] for t in tenant["topics"]]
    sign_in(after, before["staff_password"])  # the demo users are the same people after a restart, listed once
    staff_after = sorted((m["name"], m["id"]) for m in staff(after, before["tokens"]["admin"], "/api/v1/staff").json()["items"])
    assert staff_after == staff_before


def test_a_crash_keeps_the_last_snapshot_and_a_fresh_start_forgets(tmp_path, servers):
    first = servers(tmp_path, FILO_SNAPSHOT_SECONDS="1")
    before = first.state
    number = "+393470077003"
    subscribe(before, number)
    wait_for(lambda: kept_as_active(tmp_path / "data" / "snapshot.json", number), timeout=20)  # a periodic one
    first.stop(signal.SIGKILL)  # no clean stop: only the periodic snapshot can have kept it

    after = servers(tmp_path, FILO_SNAPSHOT_SECONDS="1")
    assert after.state["staff_password"] == before["staff_password"]
    assert is_subscribed(after.state, before["tokens"]["communications"], number)
    assert after.stop() == 0

    fresh = servers(tmp_path, FILO_FRESH="1").state
    assert fresh["staff_password"] != before["staff_password"]
    assert sign_in(fresh, before["staff_password"]).status_code == 401
    assert staff(fresh, before["tokens"]["communications"], "/api/v1/me").status_code == 401
    assert not is_subscribed(fresh, fresh["tokens"]["communications"], number)
    assert len(reports(fresh, fresh["tokens"]["technical"])) == DEMO_REPORT_COUNT
