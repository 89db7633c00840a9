"""Drivers for integration tests: a citizen's phone on the sandbox, staff calls to the API."""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time

import pytest
import requests

from tests.waiting import wait_for

BROADCAST, REPORTS, SAFETY = "100000000000001", "100000000000002", "100000000000003"
_numbers = itertools.count(1000)


class Phone:
    """A citizen chatting with a channel through the sandbox, as the phone page does."""

    def __init__(self, stack, channel: str, number: str):
        self.stack, self.channel, self.number = stack, channel, number
        self.e164 = "+" + "".join(ch for ch in number if ch.isdigit())

    def send(self, **message) -> dict:
        answer = requests.post(f"{self.stack.sandbox_url}/_sandbox/inbound",
                               json={"channel": self.channel, "from": self.number, **message}, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def text(self, body: str) -> dict:
        return self.send(type="text", text=body)

    def tap(self, reply_id: str, title: str = "", kind: str = "button") -> dict:
        return self.send(type=kind, id=reply_id, title=title or reply_id)

    def inbox(self) -> list[dict]:
        """The citizen's chat with this channel: what it sent them. Not what other channels sent the same number
        (the sandbox keeps a whole session's messages, and tests of other comuni reuse numbers)."""
        answer = requests.get(f"{self.stack.sandbox_url}/_sandbox/messages",
                              params={"to": self.e164, "channel": self.channel}, timeout=10)
        return answer.json()

    def wait_inbox(self, count: int, timeout: float = 10.0) -> list[dict]:
        return wait_for(lambda: (lambda m: m if len(m) >= count else None)(self.inbox()), timeout)

    def settle(self, seconds: float = 1.5) -> list[dict]:
        """The inbox once nothing more has arrived for a while (to prove something was NOT sent)."""
        time.sleep(seconds)
        return self.inbox()


@pytest.fixture
def phone(stack):
    """A fresh citizen number on the demo broadcast channel."""
    return Phone(stack, BROADCAST, f"+39 347 000 {next(_numbers):04d}")


@pytest.fixture
def new_phone(stack):
    def make(channel: str = BROADCAST) -> Phone:
        return Phone(stack, channel, f"+39 347 000 {next(_numbers):04d}")
    return make


class Api:
    def __init__(self, stack):
        self.stack = stack
        self.tokens = stack.state()["tokens"]

    def call(self, method: str, path: str, role: str | None = "admin", token: str | None = None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token or role:
            headers["Authorization"] = f"Bearer {token or self.tokens[role]}"
        return requests.request(method, f"{self.stack.api_url}{path}", headers=headers, timeout=20, **kwargs)


@pytest.fixture
def api(stack):
    return Api(stack)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def text_payload(channel: str, sender_digits: str, body: str, message_id: str) -> bytes:
    """A Meta webhook body as the Cloud API posts it, for tests that post to the webhook directly."""
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "390571000001", "phone_number_id": channel},
            "contacts": [{"profile": {"name": "Test"}, "wa_id": sender_digits}],
            "messages": [{"from": sender_digits, "id": message_id, "timestamp": str(int(time.time())),
                          "type": "text", "text": {"body": body}}]}}]}]}).encode()
