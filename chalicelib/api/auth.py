"""Staff authentication: a bearer JWT with Cognito-shaped claims, its tenant and roles."""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import jwt

from chalicelib.api.http import ApiError
from chalicelib.settings import get_settings, staff_jwks_keys

ROLES = frozenset({"admin", "communications", "technical", "police"})
ALGORITHMS = ["RS256"]


@dataclass(frozen=True)
class Staff:
    subject: str
    email: str | None
    tenant_id: str
    roles: frozenset[str]

    def has_any(self, roles: frozenset[str] | set[str]) -> bool:
        return bool(self.roles & set(roles))


class _InlineKeys:
    """Keys given as a JWKS document in the settings (the local issuer)."""

    def __init__(self, keys: list[dict]):
        self.keys = {k.get("kid"): jwt.PyJWK.from_dict(k) for k in keys}

    def get_signing_key_from_jwt(self, token: str):
        kid = jwt.get_unverified_header(token).get("kid")
        if kid not in self.keys:
            raise jwt.InvalidTokenError("unknown signing key")
        return self.keys[kid]


@lru_cache(maxsize=1)
def _key_source():
    settings = get_settings()
    if settings.staff_jwks_url:
        return jwt.PyJWKClient(settings.staff_jwks_url, cache_keys=True, lifespan=3600)
    return _InlineKeys(staff_jwks_keys())


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="filo-diretto"'})


def authenticate(headers) -> Staff:
    """The staff member behind an Authorization header; 401 for anything short of a valid token."""
    header = headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("A bearer token is required.")
    settings = get_settings()
    try:
        key = _key_source().get_signing_key_from_jwt(token.strip())
        claims = jwt.decode(
            token.strip(), key.key, algorithms=ALGORITHMS, issuer=settings.staff_issuer or None,
            audience=settings.staff_audience or None,
            options={"require": ["exp", "iat", "sub"], "verify_aud": bool(settings.staff_audience)},
        )
    except (jwt.PyJWTError, ValueError):
        raise _unauthorized("The token is invalid or expired.") from None
    tenant = claims.get("custom:tenant")
    if not tenant:
        raise _unauthorized("The token carries no tenant.")
    groups = claims.get("cognito:groups") or []
    return Staff(subject=claims["sub"], email=claims.get("email"), tenant_id=tenant,
                 roles=frozenset(g for g in groups if g in ROLES))


def staff_only(blueprint, *roles: str) -> Callable:
    """Decorate a view: authenticate, check one of roles (none given: any staff), pass Staff first."""
    allowed = frozenset(roles)

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            staff = authenticate(blueprint.current_request.headers)
            if allowed and not staff.has_any(allowed):
                raise ApiError(403, "forbidden", f"This needs one of the roles: {', '.join(sorted(allowed))}.")
            return view(staff, *args, **kwargs)
        wrapper.staff_roles = allowed  # infra/ reads it: staff routes get the Cognito authorizer in API Gateway
        return wrapper
    return decorate
