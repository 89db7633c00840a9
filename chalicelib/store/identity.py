"""The identity provider's admin operations (the port), on Amazon Cognito's user pool (the adapter, boto3
`cognito-idp`; moto's Cognito in make dev and the tests). The pool is the authority for signing in: its users, their
passwords and MFA, its groups (one per role: the token's cognito:groups)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Protocol

from chalicelib.settings import get_settings


class IdentityError(Exception):
    """The identity provider refused: `reason` is one of exists, not_found, unavailable, refused."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(detail or reason)
        self.reason = reason


@dataclass(frozen=True)
class NewUser:
    username: str
    subject: str  # the provider's stable id (Cognito's sub): the roster's key and the tokens' sub


class IdentityProvider(Protocol):
    def create_user(self, username: str, name: str, email: str, tenant_id: str, temporary_password: str) -> NewUser: ...
    def set_groups(self, username: str, add: set[str], remove: set[str]) -> None: ...
    def set_enabled(self, username: str, enabled: bool) -> None: ...
    def set_temporary_password(self, username: str, password: str) -> None: ...
    def reset_mfa(self, username: str) -> None: ...
    def set_name(self, username: str, name: str) -> None: ...


class CognitoUserPool:
    """IdentityProvider on a Cognito user pool. Cognito's own invitation email is suppressed: the comune's Italian
    one (services/admin/staff.py) carries the temporary password, the same in AWS and in make dev."""

    def __init__(self, pool_id: str):
        import boto3

        self.pool_id = pool_id
        self.client = boto3.client("cognito-idp")

    def create_user(self, username: str, name: str, email: str, tenant_id: str, temporary_password: str) -> NewUser:
        answer = self._call("admin_create_user", Username=username, TemporaryPassword=temporary_password,
                            MessageAction="SUPPRESS", UserAttributes=[
                                {"Name": "name", "Value": name}, {"Name": "email", "Value": email},
                                {"Name": "email_verified", "Value": "true"},
                                {"Name": "custom:tenant", "Value": tenant_id}])
        attributes = {a["Name"]: a["Value"] for a in answer["User"].get("Attributes", [])}
        return NewUser(answer["User"]["Username"], attributes.get("sub") or answer["User"]["Username"])

    def set_groups(self, username: str, add: set[str], remove: set[str]) -> None:
        for group in sorted(add):
            self._call("admin_add_user_to_group", Username=username, GroupName=group)
        for group in sorted(remove):
            self._call("admin_remove_user_from_group", Username=username, GroupName=group)

    def set_enabled(self, username: str, enabled: bool) -> None:
        self._call("admin_enable_user" if enabled else "admin_disable_user", Username=username)

    def set_temporary_password(self, username: str, password: str) -> None:
        """A new temporary password: the next sign-in must choose a new one (NEW_PASSWORD_REQUIRED)."""
        self._call("admin_set_user_password", Username=username, Password=password, Permanent=False)

    def reset_mfa(self, username: str) -> None:
        """MFA off: the member signs in with their password and sets up a new authenticator when the pool asks."""
        self._call("admin_set_user_mfa_preference", Username=username,
                   SoftwareTokenMfaSettings={"Enabled": False, "PreferredMfa": False},
                   SMSMfaSettings={"Enabled": False, "PreferredMfa": False})

    def set_name(self, username: str, name: str) -> None:
        self._call("admin_update_user_attributes", Username=username, UserAttributes=[{"Name": "name", "Value": name}])

    def _call(self, operation: str, **params):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, operation)(UserPoolId=self.pool_id, **params)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            reason = {"UsernameExistsException": "exists", "AliasExistsException": "exists",
                      "UserNotFoundException": "not_found"}.get(code, "refused")
            raise IdentityError(reason, f"{operation}: {code}") from None
        except BotoCoreError as error:
            raise IdentityError("unavailable", f"{operation}: {error}") from None


@cache
def provider() -> IdentityProvider | None:
    """The deployment's identity provider; None when no user pool is configured (STAFF_USER_POOL_ID)."""
    pool_id = get_settings().staff_user_pool_id
    return CognitoUserPool(pool_id) if pool_id else None
