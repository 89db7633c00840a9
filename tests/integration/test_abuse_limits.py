"""Abuse limits at the edge: oversized bodies get 413, clients over their allowance 429 with Retry-After,
and nothing they sent is queued or stored."""
from __future__ import annotations

import uuid

import pytest
import requests

from chalicelib.api import webhooks
from chalicelib.services import abuse
from tests.integration.conftest import BROADCAST, sign, text_payload


def post_webhook(stack, body: bytes, signature: str | None) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if signature:
        headers["X-Hub-Signature-256"] = signature
    return requests.post(f"{stack.api_url}/webhooks/meta", data=body, headers=headers, timeout=20)


@pytest.fixture
def tight_bad_signature_limit(monkeypatch):
    """A fresh allowance of three bad posts (its own counter, so other tests' posts do not count)."""
    monkeypatch.setattr(webhooks, "BAD_SIGNATURES", abuse.Limit(f"test-bad-sig-{uuid.uuid4().hex}", 3, 60))


def test_an_oversized_webhook_is_413(stack):
    body = b'{"object":"whatsapp_business_account","entry":[' + b" " * (webhooks.MAX_WEBHOOK_BYTES + 1) + b"]}"
    answer = post_webhook(stack, body, sign(stack.app_secret, body))
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "too_large"


def test_bad_signatures_from_one_client_are_limited_and_meta_is_not(stack, tight_bad_signature_limit):
    body = text_payload(BROADCAST, "393470009990", "ciao", f"wamid.{uuid.uuid4().hex}")
    answers = [post_webhook(stack, body, "sha256=" + "0" * 64).status_code for _ in range(5)]
    assert answers == [401, 401, 401, 429, 429]
    limited = post_webhook(stack, body, "sha256=" + "0" * 64)
    assert int(limited.headers["Retry-After"]) >= 1
    assert post_webhook(stack, body, sign(stack.app_secret, body)).status_code == 200  # verified posts pass


def test_the_public_form_is_limited_per_client(stack, monkeypatch):
    from chalicelib.services.subscriptions import web_form

    monkeypatch.setattr(web_form, "PER_CLIENT", abuse.Limit(f"test-form-{uuid.uuid4().hex}", 2, 3600))
    codes = [requests.post(f"{stack.api_url}/public/v1/demo/subscriptions", timeout=20,
                           json={"phone": f"+39 347 444 {n:04d}", "consent": True}).status_code for n in range(3)]
    assert codes[:2] == [202, 202] and codes[2] == 429


def test_an_oversized_public_form_is_413(stack):
    answer = requests.post(f"{stack.api_url}/public/v1/demo/subscriptions", timeout=20,
                           data=b'{"phone": "' + b"1" * 20_000 + b'", "consent": true}',
                           headers={"Content-Type": "application/json"})
    assert answer.status_code == 413


def test_open311_posts_are_size_limited(stack):
    answer = requests.post(f"{stack.api_url}/open311/v2/requests.json", timeout=20,
                           data={"jurisdiction_id": "demo", "description": "x" * 20_000})
    assert answer.status_code == 413


def test_behind_cloudfront_each_citizen_has_their_own_allowance_and_the_header_alone_is_not_trusted(
        stack, tight_bad_signature_limit, monkeypatch):
    """Through the distribution every request comes from a few edge addresses: with the edge secret, the limit
    counts CloudFront-Viewer-Address instead; without it (a request straight to API Gateway), the header is
    ignored, so nobody escapes the limit by inventing addresses."""
    from chalicelib.settings import get_settings

    monkeypatch.setenv("EDGE_SECRET", "s3cret-edge")
    get_settings.cache_clear()
    try:
        body = text_payload(BROADCAST, "393470009991", "ciao", f"wamid.{uuid.uuid4().hex}")

        def bad(viewer: str, edge: str | None) -> int:
            headers = {"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + "0" * 64,
                       "CloudFront-Viewer-Address": viewer, **({"X-Filo-Edge": edge} if edge else {})}
            return requests.post(f"{stack.api_url}/webhooks/meta", data=body, headers=headers, timeout=20).status_code

        one = [bad("203.0.113.7:51000", "s3cret-edge") for _ in range(4)]
        other = [bad("2001:db8::42:51001", "s3cret-edge") for _ in range(3)]
        assert one == [401, 401, 401, 429] and other == [401, 401, 401]  # two citizens, two allowances
        forged = [bad(f"198.51.100.{n}:1", "wrong") for n in range(4)] + [bad("198.51.100.9:1", None)]
        assert forged == [401, 401, 401, 429, 429]  # the header without the secret: the source address counts
    finally:
        monkeypatch.delenv("EDGE_SECRET")
        get_settings.cache_clear()
