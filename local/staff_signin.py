"""make dev's stand-in for Cognito's sign-in page, on make dev's Cognito user pool (moto's, local/bootstrap.py).

The demo users (one per staff role, one dev-only password) are users of that pool, as are the staff an
administrator invites from the console (services/admin/staff.py). The console posts {"username", "password"} to
/local-auth/token on the local web server; the pool answers with an ID token (signed with moto's key, which the app
trusts in make dev), or, for an invited user's first sign-in or after a password reset, the NEW_PASSWORD_REQUIRED
challenge: the console then posts {"username", "session", "new_password"}, as Cognito's hosted UI does in AWS.
Nothing of this exists in AWS; it lives in local/ only.
"""
from __future__ import annotations

import os
import secrets

from chalicelib.domain.access import ROLES, Role

DEMO_NAMES = {  # the display name (the token's `name`) of each role's demo user
    Role.ADMIN: "Amministratore", Role.COMMUNICATIONS: "Ufficio comunicazione", Role.TECHNICAL: "Ufficio tecnico",
    Role.POLICE: "Polizia municipale",
}
USERS = {role.value: ([role.value], DEMO_NAMES[role]) for role in ROLES}  # username: (roles, name); username = role
MAX_FIELD = 256


class SignInRefused(PermissionError):
    """What the sign-in page shows, in Italian."""


class StaffSignIn:
    def __init__(self, cognito, pool_id: str, client_id: str, tenant: str, password: str | None = None):
        """cognito: a boto3 cognito-idp client on make dev's moto."""
        self.cognito, self.pool_id, self.client_id, self.tenant = cognito, pool_id, client_id, tenant
        self.password = password or os.environ.get("FILO_STAFF_PASSWORD") or secrets.token_urlsafe(9)
        self.subjects: dict[str, str] = {}  # username -> the pool's id for the user (the tokens' sub)

    def seed_demo_users(self) -> None:
        """The demo users in the pool, with the dev password (a new pool each start: moto keeps none)."""
        for username, (roles, name) in USERS.items():
            try:
                self.cognito.admin_create_user(
                    UserPoolId=self.pool_id, Username=username, MessageAction="SUPPRESS", UserAttributes=[
                        {"Name": "name", "Value": name}, {"Name": "email", "Value": f"{username}@{self.tenant}.example"},
                        {"Name": "email_verified", "Value": "true"}, {"Name": "custom:tenant", "Value": self.tenant}])
            except self.cognito.exceptions.UsernameExistsException:
                pass
            self.cognito.admin_set_user_password(UserPoolId=self.pool_id, Username=username, Password=self.password,
                                                 Permanent=True)
            for role in roles:
                self.cognito.admin_add_user_to_group(UserPoolId=self.pool_id, Username=username, GroupName=role)
            user = self.cognito.admin_get_user(UserPoolId=self.pool_id, Username=username)
            self.subjects[username] = next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub")
        for username, (roles, name) in USERS.items():  # after every user is made: the same ids whatever this reads
            self._on_the_staff_list(username, roles, name)

    def _on_the_staff_list(self, username: str, roles: list[str], name: str) -> None:
        """A demo user on the demo comune's staff list under the pool's id (the one their sign-ins carry), so reports
        and conversations can be assigned to them before they first sign in (in AWS, a member joins the list at
        their first sign-in, or when an administrator invites them)."""
        from chalicelib.services import clock
        from chalicelib.store import staff

        if staff.get(self.tenant, self.subjects[username]) is None:
            staff.remember(staff.Member(self.tenant, self.subjects[username], name, tuple(roles), clock.now()))

    def users(self) -> list[dict]:
        """What the sign-in page lists (no password)."""
        return [{"username": name, "roles": roles, "name": label} for name, (roles, label) in USERS.items()]

    def token(self, username: str, password: str = "", session: str = "", new_password: str = "") -> dict:
        """{"id_token", "expires_in"}, or {"challenge": "NEW_PASSWORD_REQUIRED", "session"}; SignInRefused else."""
        if not username or len(username) > MAX_FIELD or len(password) > MAX_FIELD or len(new_password) > MAX_FIELD:
            raise SignInRefused("Nome utente o password non validi.")
        errors = self.cognito.exceptions
        try:
            if session:
                answer = self.cognito.admin_respond_to_auth_challenge(
                    UserPoolId=self.pool_id, ClientId=self.client_id, ChallengeName="NEW_PASSWORD_REQUIRED",
                    Session=session, ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": new_password})
            else:
                answer = self.cognito.admin_initiate_auth(
                    UserPoolId=self.pool_id, ClientId=self.client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                    AuthParameters={"USERNAME": username, "PASSWORD": password})
        except errors.NotAuthorizedException as error:
            disabled = "disabled" in str(error)
            raise SignInRefused("Il tuo account è disabilitato." if disabled
                                else "Nome utente o password non validi.") from None
        except errors.UserNotFoundException:
            raise SignInRefused("Nome utente o password non validi.") from None
        except (errors.InvalidPasswordException, errors.InvalidParameterException):
            raise SignInRefused("La nuova password non è valida: almeno 6 caratteri.") from None
        except errors.ResourceNotFoundException:
            raise SignInRefused("Sessione di accesso scaduta: inserisci di nuovo nome utente e password.") from None
        if answer.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
            return {"challenge": "NEW_PASSWORD_REQUIRED", "session": answer["Session"]}
        if "AuthenticationResult" not in answer:
            raise SignInRefused("Accesso non riuscito.")
        result = answer["AuthenticationResult"]
        return {"id_token": result["IdToken"], "expires_in": result["ExpiresIn"]}
