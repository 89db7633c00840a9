"""The staff API: bearer tokens, roles, tenant scoping, subscribers, CSV import, erasure, audit."""
from __future__ import annotations

import base64
import json
import time
from urllib.parse import quote

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from local.issuer import AUDIENCE, ISSUER, LocalIssuer
from tests.integration.conftest import BROADCAST, SAFETY


def forged(claims: dict | None = None, key=None, kid: str | None = None) -> str:
    now = int(time.time())
    payload = {"sub": "x", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600,
               "custom:tenant": "demo", "cognito:groups": ["admin"], **(claims or {})}
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid or "unknown"})


def unsigned_token() -> str:
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    now = int(time.time())
    claims = {"sub": "x", "custom:tenant": "demo", "cognito:groups": ["admin"], "exp": now + 600, "iat": now}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def test_me(api):
    body = api.call("GET", "/api/v1/me", role="communications").json()
    assert body["tenant"] == "demo" and body["roles"] == ["communications"]


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt"])
def test_missing_or_malformed_token_is_401(api, header):
    headers = {} if header is None else {"Authorization": header}
    answer = api.call("GET", "/api/v1/me", role=None, headers=headers)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthorized"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_forged_expired_and_unsigned_tokens_are_401(api, stack):
    kid = stack.issuer.kid
    for token in (forged(kid=kid), forged(), unsigned_token(),
                  stack.issuer.token("demo", ["admin"], ttl_seconds=-10),
                  stack.issuer.token("demo", ["admin"], aud="another-app"),
                  LocalIssuer().token("demo", ["admin"])):
        assert api.call("GET", "/api/v1/me", token=token).status_code == 401


def test_token_without_tenant_is_401(api, stack):
    token = stack.issuer.token("", ["admin"])
    assert api.call("GET", "/api/v1/me", token=token).status_code == 401


def test_wrong_role_is_403(api):
    answer = api.call("GET", "/api/v1/subscribers", role="technical", params={"channel": BROADCAST})
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"
    # police reach the safety channel's residents but not the broadcast list
    assert api.call("GET", "/api/v1/subscribers", role="police", params={"channel": BROADCAST}).status_code == 403
    assert api.call("GET", "/api/v1/subscribers", role="police", params={"channel": SAFETY}).status_code == 200


def test_other_tenant_cannot_see_demo_channels(api, stack):
    token = stack.issuer.token("altro", ["admin"])
    for path in ("/api/v1/subscribers", f"/api/v1/subscribers/{quote('+393351397378')}"):
        answer = api.call("GET", path, token=token, params={"channel": BROADCAST})
        assert answer.status_code == 404, path
    assert api.call("GET", "/api/v1/channels", token=token).json() == {"items": []}


def test_add_read_list_and_erase_a_subscriber(api):
    created = api.call("POST", "/api/v1/subscribers", role="communications", json={
        "channel": BROADCAST, "phone": "335 139 7300", "hamlets": ["pieve"], "topics": ["allerte"]})
    assert created.status_code == 201, created.text
    assert created.json()["phone"] == "+393351397300" and created.json()["status"] == "active"
    again = api.call("POST", "/api/v1/subscribers", role="communications", json={
        "channel": BROADCAST, "phone": "0039 335 1397300"})
    assert again.status_code == 200  # the same person, however written
    one = api.call("GET", f"/api/v1/subscribers/{quote('+393351397300')}", role="communications",
                   params={"channel": BROADCAST})
    assert one.status_code == 200 and one.json()["source"] == "staff"
    ledger = api.call("GET", f"/api/v1/subscribers/{quote('+393351397300')}/consents", role="communications").json()
    assert [(e["action"], e["path"]) for e in ledger["items"]] == [("grant", "staff")]
    assert ledger["items"][0]["actor"] == api.stack.staff_sign_in.subjects["communications"]  # the demo user
    erased = api.call("DELETE", f"/api/v1/subscribers/{quote('+393351397300')}", role="communications",
                      params={"channel": BROADCAST})
    assert erased.status_code == 204
    assert api.call("GET", f"/api/v1/subscribers/{quote('+393351397300')}", role="communications",
                    params={"channel": BROADCAST}).status_code == 404
    ledger = api.call("GET", f"/api/v1/subscribers/{quote('+393351397300')}/consents", role="communications").json()
    assert [e["path"] for e in ledger["items"]] == ["staff", "erasure"]  # the proof is kept


def test_invalid_subscribers_are_clear_422s(api):
    cases = [
        ({"channel": BROADCAST, "phone": "123456"}, "invalid_subscriber"),
        ({"channel": BROADCAST, "phone": "3351397301", "hamlets": ["atlantide"]}, "invalid_subscriber"),
        ({"channel": BROADCAST, "phone": "3351397301", "status": "active"}, "invalid_request"),  # mass assignment
        ({"channel": BROADCAST}, "invalid_request"),
    ]
    for body, code in cases:
        answer = api.call("POST", "/api/v1/subscribers", role="communications", json=body)
        assert answer.status_code == 422, body
        assert answer.json()["error"]["code"] == code
    bad_json = api.call("POST", "/api/v1/subscribers", role="communications", data=b"{",
                        headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400


def test_safety_residents_need_name_address_and_hamlet(api):
    missing = api.call("POST", "/api/v1/subscribers", role="police", json={"channel": SAFETY, "phone": "3351397302"})
    assert missing.status_code == 422
    ok = api.call("POST", "/api/v1/subscribers", role="police", json={
        "channel": SAFETY, "phone": "3351397302", "name": "Maria Rossi", "address": "Via Roma 1", "hamlet": "pieve"})
    assert ok.status_code == 201 and ok.json()["name"] == "Maria Rossi"
    assert api.call("POST", "/api/v1/subscribers", role="communications", json={
        "channel": SAFETY, "phone": "3351397303"}).status_code == 403


def test_csv_import_reports_every_row(api):
    csv_text = "phone,hamlets,topics\n335 139 7310,pieve,allerte\nnot a phone,,\n3351397311,atlantide,\n" \
               "+39 335 139 7312,,viabilita;eventi\n"
    answer = api.call("POST", "/api/v1/subscribers/import", role="communications", params={"channel": BROADCAST},
                      data=csv_text.encode(), headers={"Content-Type": "text/csv"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["summary"] == {"created": 2, "updated": 0, "error": 2}
    assert [(r["row"], r["result"]) for r in body["rows"]] == [(2, "created"), (3, "error"), (4, "error"), (5, "created")]
    assert "phone" in body["rows"][1]["error"] and "atlantide" in body["rows"][2]["error"]
    listed = api.call("GET", "/api/v1/subscribers", role="communications",
                      params={"channel": BROADCAST, "q": "+39335139731"}).json()["items"]
    assert {s["phone"] for s in listed} == {"+393351397310", "+393351397312"}
    assert next(s for s in listed if s["phone"] == "+393351397312")["topics"] == ["viabilita", "eventi"]


def test_csv_without_a_phone_column_is_refused(api):
    answer = api.call("POST", "/api/v1/subscribers/import", role="communications", params={"channel": BROADCAST},
                      data=b"telefono\n3351397313\n", headers={"Content-Type": "text/csv"})
    assert answer.status_code == 422 and "phone" in answer.json()["error"]["message"]


def test_listing_pages_with_a_cursor(api):
    for n in range(5):
        api.call("POST", "/api/v1/subscribers", role="communications",
                 json={"channel": BROADCAST, "phone": f"3351397{320 + n}"})
    seen, cursor = [], None
    for _ in range(10):
        params = {"channel": BROADCAST, "q": "+393351397", "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = api.call("GET", "/api/v1/subscribers", role="communications", params=params).json()
        assert len(page["items"]) <= 2
        seen += [s["phone"] for s in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    assert {f"+393351397{320 + n}" for n in range(5)} <= set(seen)
    assert len(seen) == len(set(seen))
    assert api.call("GET", "/api/v1/subscribers", role="communications",
                    params={"channel": BROADCAST, "limit": "100000"}).status_code == 422
    assert api.call("GET", "/api/v1/subscribers", role="communications",
                    params={"channel": BROADCAST, "cursor": "garbage"}).status_code == 422


def test_reads_of_personal_data_are_audited(api):
    api.call("POST", "/api/v1/subscribers", role="communications", json={"channel": BROADCAST, "phone": "3351397399"})
    api.call("GET", f"/api/v1/subscribers/{quote('+393351397399')}", role="communications",
             params={"channel": BROADCAST})
    entries = api.call("GET", "/api/v1/audit", role="admin", params={"limit": "20"}).json()["items"]
    read = next(e for e in entries if e["action"] == "subscriber.read")
    assert read["actor"] == api.stack.staff_sign_in.subjects["communications"]  # the demo user who read it
    assert read["target"].endswith("+393351397399")
    assert any(e["action"] == "subscriber.add" for e in entries)
    assert api.call("GET", "/api/v1/audit", role="communications").status_code == 403


def test_channels_list_their_approved_templates_for_the_composer(api):
    items = {c["kind"]: c for c in api.call("GET", "/api/v1/channels", role="admin").json()["items"]}
    assert {t["name"] for t in items["broadcast"]["templates"]} == {"conferma_iscrizione", "avviso_comune"}
    assert all(t["language"] == "it" and t["category"] in ("utility", "marketing") for t in items["broadcast"]["templates"])
    comms = api.call("GET", "/api/v1/channels", role="communications").json()["items"]
    assert [c["kind"] for c in comms] == ["broadcast"]  # a role sees only its channels' templates
