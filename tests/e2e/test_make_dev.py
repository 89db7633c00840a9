"""The local stack started as make dev starts it, driven as a new user would: sandbox in, sandbox out."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from local.devserver import free_port
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dev(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dev")
    state_file, output = folder / "dev.json", folder / "terminal.txt"
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("FILO_")}  # make dev's defaults
    env = {**inherited, "FILO_API_PORT": str(free_port()), "FILO_SANDBOX_PORT": str(free_port()),
           "FILO_MOTO_PORT": str(free_port()), "FILO_WEB_PORT": str(free_port()), "FILO_ALERTS_PORT": str(free_port()),
           "FILO_STATE_FILE": str(state_file)}
    with output.open("w") as terminal:  # what the developer's terminal shows
        process = subprocess.Popen([sys.executable, "-m", "local.devserver"], cwd=ROOT, env=env,
                                   stdout=terminal, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: state_file.exists() or process.poll() is not None, timeout=60)
        assert process.poll() is None, output.read_text()
        state = json.loads(state_file.read_text())
        state["terminal"] = str(output)
        yield state, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def test_state_file_has_the_contract_keys(dev):
    state, _ = dev
    for key in ("api_url", "sandbox_url", "webhook_url", "app_secret", "verify_token", "tokens", "channels",
                "hamlets", "topics", "open311_api_key", "console_url", "portal_url", "staff_password"):
        assert key in state, key
    assert set(state["tokens"]) == {"admin", "communications", "technical", "police"}
    assert {c["kind"] for c in state["channels"]} == {"broadcast", "reports", "safety"}
    assert all({"id", "name", "latitude", "longitude"} <= set(h) for h in state["hamlets"])
    assert requests.get(f"{state['api_url']}/health", timeout=5).status_code == 200
    assert requests.get(f"{state['sandbox_url']}/", timeout=5).headers["Content-Type"].startswith("text/html")
    for app in ("console_url", "portal_url"):  # built by make web, served with the API on one origin
        page = requests.get(state[app], timeout=5)
        assert page.status_code == 200 and '<html lang="it">' in page.text, (app, page.status_code)
    signed_in = requests.post(state["console_url"].replace("/console/", "/local-auth/token"), timeout=5,
                              json={"username": "technical", "password": state["staff_password"]})
    assert signed_in.status_code == 200, signed_in.text
    reports = requests.get(state["console_url"].replace("/console/", "/api/v1/reports"), timeout=5,
                           headers={"Authorization": f"Bearer {signed_in.json()['id_token']}"})
    assert reports.status_code == 200 and len(reports.json()["items"]) >= 5  # the demo reports to triage


def test_attiva_confirm_disattiva_through_the_sandbox(dev):
    state, _ = dev
    sandbox, number = state["sandbox_url"], "+393470099001"
    channel = next(c["phone_number_id"] for c in state["channels"] if c["kind"] == "broadcast")

    def send(**message):
        answer = requests.post(f"{sandbox}/_sandbox/inbound", json={"channel": channel, "from": number, **message},
                               timeout=10)
        assert answer.json()["webhook_status"] == 200

    def inbox(count):
        return wait_for(lambda: (lambda m: m if len(m) >= count else None)(
            requests.get(f"{sandbox}/_sandbox/messages", params={"to": number}, timeout=5).json()))

    send(type="text", text="ATTIVA")
    assert "Comune di Esempio" in inbox(1)[0]["text"]
    send(type="button", id="sub:confirm", title="Sì, confermo")
    assert "Iscrizione confermata" in inbox(2)[1]["text"]
    headers = {"Authorization": f"Bearer {state['tokens']['communications']}"}
    listed = requests.get(f"{state['api_url']}/api/v1/subscribers", headers=headers, timeout=5,
                          params={"channel": channel, "status": "active"}).json()["items"]
    assert number in [s["phone"] for s in listed]
    send(type="text", text="DISATTIVA")
    assert "non riceverai più" in inbox(4)[3]["text"]
    ledger = requests.get(f"{state['api_url']}/api/v1/subscribers/{quote(number)}/consents", headers=headers,
                          timeout=5).json()["items"]
    assert [e["action"] for e in ledger] == ["grant", "withdraw"]


ACCESS_LINE = re.compile(r'"(GET|POST|PUT|DELETE|HEAD) /\S* HTTP/1\.[01]" \d{3}')


def test_the_terminal_stays_quiet_and_ends_with_the_banner(dev):
    state, _ = dev
    api, web, sandbox = state["api_url"], state["console_url"].removesuffix("/console/"), state["sandbox_url"]
    headers = {"Authorization": f"Bearer {state['tokens']['admin']}"}
    for _ in range(10):
        assert requests.get(f"{api}/health", timeout=5).status_code == 200
        assert requests.get(f"{web}/api/v1/me", headers=headers, timeout=5).status_code == 200
        assert requests.get(f"{web}/console/", timeout=5).status_code == 200
        assert requests.get(f"{sandbox}/_sandbox/health", timeout=5).status_code == 200
    terminal = Path(state["terminal"]).read_text()
    assert not ACCESS_LINE.search(terminal), [line for line in terminal.splitlines() if ACCESS_LINE.search(line)][:3]
    lines = [line for line in terminal.splitlines() if line.strip()]
    banner = lines[next(i for i, line in enumerate(lines) if "Filo Diretto is running" in line):]
    assert banner[-1] == "Press Ctrl-C to stop."  # nothing after it: the password stays on screen
    assert any(state["staff_password"] in line for line in banner)
    assert "FILO_FRESH=1" in terminal and "FILO_ACCESS_LOG=1" in terminal  # how to start clean, how to see requests


def test_ctrl_c_stops_everything(dev):
    state, process = dev
    process.send_signal(signal.SIGINT)
    try:
        assert process.wait(timeout=15) == 0
    except subprocess.TimeoutExpired:  # the devserver prints every thread's stack when its stop hangs
        pytest.fail("make dev did not stop in 15 s:\n" + Path(state["terminal"]).read_text()[-6000:])
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{state['api_url']}/health", timeout=2)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{state['sandbox_url']}/", timeout=2)
