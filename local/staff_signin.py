"""make dev's stand-in for Cognito's sign-in page: one demo user per staff role, one dev-only password.

The console posts {"username", "password"} to /local-auth/token on the local web server and gets an ID token
from the local issuer, shaped like Cognito's. Nothing of this exists in AWS (the console signs in with Cognito's
hosted UI there); it lives in local/ only.
"""
from __future__ import annotations

import hmac
import os
import secrets

from chalicelib.domain.access import ROLES, Role
from local.issuer import LocalIssuer

TOKEN_SECONDS = 8 * 3600
DEMO_NAMES = {  # the display name (the token's `name`) of each role's demo user
    Role.ADMIN: "Amministratore", Role.COMMUNICATIONS: "Ufficio comunicazione", Role.TECHNICAL: "Ufficio tecnico",
    Role.POLICE: "Polizia municipale",
}
USERS = {role.value: ([role.value], DEMO_NAMES[role]) for role in ROLES}  # username: (roles, name); username = role


class StaffSignIn:
    def __init__(self, issuer: LocalIssuer, tenant: str, password: str | None = None):
        self.issuer, self.tenant = issuer, tenant
        self.password = password or os.environ.get("FILO_STAFF_PASSWORD") or secrets.token_urlsafe(9)

    def users(self) -> list[dict]:
        """What the sign-in page lists (no password)."""
        return [{"username": name, "roles": roles, "name": label} for name, (roles, label) in USERS.items()]

    def token(self, username: str, password: str) -> dict | None:
        """An ID token for a demo user with the right password, else None."""
        user = USERS.get(username or "")
        good = hmac.compare_digest((password or "").encode(), self.password.encode())
        if user is None or not good:
            return None
        roles, label = user
        return {"id_token": self.issuer.token(self.tenant, roles, subject=f"local-{username}", ttl_seconds=TOKEN_SECONDS,
                                              name=label),
                "expires_in": TOKEN_SECONDS}
