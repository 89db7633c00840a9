"""Staff users and roles (issue 15, item 1): an administrator invites, changes, disables and resets staff through
/api/v1/staff, which drives the stack's Cognito user pool (moto's, as in make dev); the invited member signs in
through that pool (the new-password challenge first) with the temporary password our invitation email carries
(moto's SES), and the roster refuses a disabled member's next request. Own comune per test (prefix 71)."""
from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from chalicelib.store import audit, directory
from local.seed import REPORTS
from tests import mailbox


class Comune:
    """A comune of its own (id with prefix 71) with the demo's report teams, and its first administrator."""

    def __init__(self, stack):
        n = uuid.uuid4().int % 10**9
        self.stack, self.n, self.tenant = stack, n, f"p71{n:09d}"
        directory.save_tenant(self.tenant, f"Comune di Personale {n}", {
            "hamlets": [{"id": "centro", "name": "Centro", "latitude": 43.7, "longitude": 10.9}],
            "privacy_notice_url": "https://example.org/privacy", "privacy_notice_version": "v1", "reports": REPORTS})
        self.admin = stack.issuer.token(self.tenant, ["admin"], subject=f"admin-{n}", name="Anna Sindaco")
        assert self.call("GET", "/api/v1/me").status_code == 200  # signs in: joins the roster

    def call(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.stack.api_url}{path}", timeout=30,
                                headers={"Authorization": f"Bearer {token or self.admin}"}, **kwargs)

    def invite(self, name: str, roles: list[str], teams: list[str] = ()) -> tuple[dict, str]:
        email = f"{name.split()[0].lower()}.{self.n}@comune.example"
        answer = self.call("POST", "/api/v1/staff", json={"name": name, "email": email, "roles": roles,
                                                         "teams": list(teams)})
        assert answer.status_code == 201, answer.text
        return answer.json(), email

    def sign_in(self, username: str, password: str, new_password: str | None = None) -> str:
        """The console's sign-in on the local web server (Cognito on moto); the new-password challenge answered."""
        url = f"{self.stack.web_url}/local-auth/token"
        answer = requests.post(url, json={"username": username, "password": password}, timeout=10)
        assert answer.status_code == 200, answer.text
        if new_password is not None:
            assert answer.json()["challenge"] == "NEW_PASSWORD_REQUIRED"
            answer = requests.post(url, timeout=10, json={"username": username, "session": answer.json()["session"],
                                                         "new_password": new_password})
            assert answer.status_code == 200, answer.text
        return answer.json()["id_token"]

    def temporary_password(self, email: str, nth: int = 1) -> str:
        return mailbox.temporary_password(email, nth)

    def changes(self, subject: str) -> list[audit.AuditEntry]:
        return [e for e in audit.recent(self.tenant, 200) if e.target == subject and e.action.startswith("staff.")]


@pytest.fixture
def comune(stack):
    return Comune(stack)


def test_an_invited_technical_user_signs_in_sees_the_inbox_and_is_refused_once_disabled(comune):
    member, email = comune.invite("Tecla Tecnica", ["technical"], ["cantonieri"])
    assert (member["name"], member["roles"], member["teams"], member["enabled"]) == (
        "Tecla Tecnica", ["technical"], ["cantonieri"], True)
    password = comune.temporary_password(email)

    token = comune.sign_in(email, password, new_password="Nuova-password-1")
    me = comune.call("GET", "/api/v1/me", token).json()
    assert (me["name"], me["tenant"], me["roles"], me["subject"]) == ("Tecla Tecnica", comune.tenant, ["technical"],
                                                                      member["id"])
    assert comune.call("GET", "/api/v1/reports", token).status_code == 200
    assert comune.call("GET", "/api/v1/staff", token).status_code == 403  # not an administrator

    # named wherever staff are shown: the report's timeline, the people a report can be given to
    filed = comune.call("POST", "/api/v1/reports", token, json={"source": "desk", "text": "Buca davanti al municipio"})
    assert filed.status_code == 201, filed.text
    comune.call("POST", f"/api/v1/reports/{filed.json()['id']}/notes", token, json={"note": "Sopralluogo domani"})
    events = comune.call("GET", f"/api/v1/reports/{filed.json()['id']}", token).json()["events"]
    assert [e.get("actor_name") for e in events] == ["Tecla Tecnica", "Tecla Tecnica"]
    offered = comune.call("GET", "/api/v1/reports/assignees", token).json()["items"]
    assert {"id": member["id"], "name": "Tecla Tecnica", "kinds": ["report"]} in offered

    listed = {m["name"]: m for m in comune.call("GET", "/api/v1/staff").json()["items"]}
    assert set(listed) == {"Anna Sindaco", "Tecla Tecnica"}
    assert listed["Tecla Tecnica"]["last_sign_in"] and listed["Tecla Tecnica"]["email"] == email

    disabled = comune.call("PATCH", f"/api/v1/staff/{member['id']}", json={"enabled": False})
    assert disabled.status_code == 200 and disabled.json()["enabled"] is False
    refused = comune.call("GET", "/api/v1/reports", token)
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "account_disabled")
    attempts = comune.call("GET", "/api/v1/audit", params={"action": "refused.401", "actor": member["id"]}).json()["items"]
    assert [(e["action"], e["target"]) for e in attempts] == [("refused.401", "GET /api/v1/reports")]  # the DPO sees it
    again = requests.post(f"{comune.stack.web_url}/local-auth/token", timeout=10,
                          json={"username": email, "password": "Nuova-password-1"})
    assert again.status_code == 401 and "disabilitato" in again.json()["error"]["message"]

    # a disabled member is offered to nobody
    offered = comune.call("GET", "/api/v1/reports/assignees").json()["items"]
    assert member["id"] not in [p["id"] for p in offered]

    invited, change = comune.changes(member["id"])[::-1]
    assert (invited.action, invited.actor_name, invited.before) == ("staff.invite", "Anna Sindaco", None)
    assert invited.after["roles"] == ["technical"]
    assert (change.action, change.before["enabled"], change.after["enabled"]) == ("staff.change", True, False)

    comune.call("PATCH", f"/api/v1/staff/{member['id']}", json={"enabled": True})
    assert comune.call("GET", "/api/v1/reports", comune.sign_in(email, "Nuova-password-1")).status_code == 200


def test_a_role_change_refuses_the_old_token_and_the_next_sign_in_carries_the_new_roles(comune):
    member, email = comune.invite("Carlo Comunica", ["technical"])
    token = comune.sign_in(email, comune.temporary_password(email), new_password="Altra-password-2")
    assert comune.call("GET", "/api/v1/reports", token).status_code == 200

    changed = comune.call("PATCH", f"/api/v1/staff/{member['id']}", json={"roles": ["communications"]})
    assert changed.status_code == 200 and changed.json()["roles"] == ["communications"]
    stale = comune.call("GET", "/api/v1/reports", token)
    assert (stale.status_code, stale.json()["error"]["code"]) == (401, "roles_changed")

    fresh = comune.sign_in(email, "Altra-password-2")
    assert comune.call("GET", "/api/v1/me", fresh).json()["roles"] == ["communications"]
    assert comune.call("GET", "/api/v1/reports", fresh).status_code == 403
    assert comune.call("GET", "/api/v1/broadcasts", fresh).status_code == 200
    (_, change) = comune.changes(member["id"])[::-1]
    assert (change.before["roles"], change.after["roles"]) == (["technical"], ["communications"])


def test_the_last_enabled_admin_cannot_lose_the_role_nor_be_disabled(comune):
    me = comune.call("GET", "/api/v1/me").json()["subject"]
    for change in ({"roles": ["technical"]}, {"enabled": False}):
        refused = comune.call("PATCH", f"/api/v1/staff/{me}", json=change)
        assert (refused.status_code, refused.json()["error"]["code"]) == (409, "last_admin")
    assert comune.changes(me) == []  # a refused change is no change

    second, email = comune.invite("Bruno Vice", ["admin"])
    token = comune.sign_in(email, comune.temporary_password(email), new_password="Vice-password-5")
    assert comune.call("PATCH", f"/api/v1/staff/{me}", json={"roles": ["technical", "communications"]}).status_code == 200
    # the first administrator's old token carries the admin role the roster no longer gives
    assert comune.call("GET", "/api/v1/staff").json()["error"]["code"] == "roles_changed"
    refused = comune.call("PATCH", f"/api/v1/staff/{second['id']}", token, json={"enabled": False})
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "last_admin")
    assert comune.call("GET", "/api/v1/staff", token).status_code == 200


def test_two_admins_taking_each_others_role_at_once_leave_one(comune):
    """Each change alone is allowed (the other stays an administrator); at once, the transaction's check on the
    other lets at most one of them through."""
    first = comune.call("GET", "/api/v1/me").json()["subject"]
    second, email = comune.invite("Dora Doppia", ["admin"])
    tokens = {first: comune.admin, second["id"]: comune.sign_in(email, comune.temporary_password(email),
                                                                  new_password="Doppia-password-6")}
    start = threading.Barrier(2)

    def demote(actor: str, target: str) -> int:
        start.wait()
        return comune.call("PATCH", f"/api/v1/staff/{target}", tokens[actor], json={"roles": ["technical"]}).status_code

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(demote, [first, second["id"]], [second["id"], first]))
    assert sorted(answers) in ([200, 409], [200, 401])  # the loser: refused, or already no administrator
    admins = [m for m in comune.call("GET", "/api/v1/staff", tokens[first if answers[0] == 200 else second["id"]]
                                     ).json()["items"] if "admin" in m["roles"] and m["enabled"]]
    assert len(admins) == 1


def test_resets_and_bad_input(comune):
    member, email = comune.invite("Rita Reset", ["police"])
    comune.sign_in(email, comune.temporary_password(email), new_password="Prima-password-3")

    assert comune.call("POST", f"/api/v1/staff/{member['id']}/reset-password").status_code == 200
    comune.sign_in(email, comune.temporary_password(email, nth=2), new_password="Seconda-password-4")
    assert comune.call("POST", f"/api/v1/staff/{member['id']}/reset-mfa").status_code == 200
    assert [e.action for e in comune.changes(member["id"])][::-1] == [
        "staff.invite", "staff.reset_password", "staff.reset_mfa"]

    for body, field in (({"name": "X Y", "email": "non-una-email", "roles": ["technical"]}, "email"),
                        ({"name": "X Y", "email": "x@comune.example", "roles": ["sindaco"]}, "roles"),
                        ({"name": "X Y", "email": "x@comune.example", "roles": []}, "roles"),
                        ({"name": "X Y", "email": "x@comune.example", "roles": ["technical"], "teams": ["nessuna"]},
                         "teams")):
        refused = comune.call("POST", "/api/v1/staff", json=body)
        assert refused.status_code == 422, refused.text
        assert field in [d["field"].split(".")[0] for d in refused.json()["error"]["details"]]
    duplicate = comune.call("POST", "/api/v1/staff", json={"name": "Rita Due", "email": email, "roles": ["police"]})
    assert (duplicate.status_code, duplicate.json()["error"]["code"]) == (409, "user_exists")
    assert comune.call("PATCH", "/api/v1/staff/nessuno", json={"enabled": False}).status_code == 404
