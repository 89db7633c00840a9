"""Staff authentication: a bearer JWT with Cognito-shaped claims, its tenant and roles."""
from __future__ import annotations

import functools
from collections.abc import Callable
from functools import lru_cache

from chalicelib.api import lazy
from chalicelib.api.http import ApiError
from chalicelib.api.limits import per_subject
from chalicelib.domain.access import Capability, Staff, parse_roles, roles_for
from chalicelib.observability import count, logger
from chalicelib.services.abuse import Limit
from chalicelib.settings import get_settings, staff_jwks_keys

# PyJWT (and its crypto backend) and the directory (PynamoDB) load with the first staff request, not with every
# cold start: the webhook, the public endpoints and the consumers never use them.
jwt = lazy("jwt")
directory = lazy("chalicelib.store.directory")

ALGORITHMS = ["RS256"]
MAX_NAME = 128  # a display name longer than this is cut: it only labels the staff member in the console


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


REFUSALS_AUDITED = (403, 404)  # what an authenticated staff member was refused: another comune's id, a role short


def _unauthorized(reason: str, message: str) -> ApiError:
    """A refused authentication: a security-log line and an AuthRefused metric (alarmed in infra/), then 401."""
    logger.warning("authentication refused", extra={"auth_refusal": reason})
    count("AuthRefused", reason=reason)
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="filo-diretto"'})


def authenticate(headers) -> Staff:
    """The staff member behind an Authorization header; 401 for anything short of a valid token."""
    header = headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("missing", "A bearer token is required.")
    settings = get_settings()
    try:
        key = _key_source().get_signing_key_from_jwt(token.strip())
        claims = jwt.decode(
            token.strip(), key.key, algorithms=ALGORITHMS, issuer=_listed(settings.staff_issuer),
            audience=_listed(settings.staff_audience),
            options={"require": ["exp", "iat", "sub"], "verify_aud": bool(settings.staff_audience)},
        )
    except jwt.ExpiredSignatureError:
        raise _unauthorized("expired", "The token is invalid or expired.") from None
    except (jwt.PyJWTError, ValueError):
        raise _unauthorized("invalid", "The token is invalid or expired.") from None
    tenant = claims.get("custom:tenant")
    if not tenant:
        raise _unauthorized("no-tenant", "The token carries no tenant.")
    groups = claims.get("cognito:groups") or []
    return Staff(subject=claims["sub"], tenant_id=tenant, roles=parse_roles(groups if isinstance(groups, list) else []),
                 name=_text(claims.get("name")), email=_text(claims.get("email")) or None,
                 username=_text(claims.get("cognito:username")) or None)


def _listed(value: str) -> list[str] | None:
    """STAFF_ISSUER and STAFF_AUDIENCE may list several, comma-separated (make dev: the local issuer and the user
    pool on moto); a token must match one of them."""
    listed = [v.strip() for v in value.split(",") if v.strip()]
    return listed or None


def _text(value) -> str:
    return value.strip()[:MAX_NAME] if isinstance(value, str) else ""


def staff_only(blueprint, *capabilities: Capability) -> Callable:
    """Decorate a view: authenticate, check any one of the capabilities (none given: any staff), pass Staff first."""
    needed = frozenset(capabilities)

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            request = blueprint.current_request
            staff = authenticate(request.headers)
            _check_roster(staff, request)
            _rate_limit(staff)
            try:
                if needed and not staff.may(*needed):
                    roles = ", ".join(sorted(roles_for(needed)))
                    raise ApiError(403, "forbidden", f"This needs one of the roles: {roles}.")
                return view(staff, *args, **kwargs)
            except ApiError as error:
                if error.status in REFUSALS_AUDITED:
                    _audit_refusal(staff, request, error.status)
                raise
        # the OpenAPI document reads it, and infra/: staff routes get the Cognito authorizer in API Gateway
        wrapper.staff_capabilities = needed
        return wrapper
    return decorate


ROSTER_REFUSALS = {  # services/admin/staff.refusal's reasons: 401, and the console says why in Italian
    "account_disabled": "This account is disabled.",
    "roles_changed": "Your roles changed: sign in again.",
}


def _check_roster(staff: Staff, request) -> None:
    """One read of the comune's roster per request: Cognito cannot take back an ID token it issued, so a member an
    administrator disabled, or whose roles changed since the token, is refused here; a disabled member's attempt
    goes to the audit log as a refused one."""
    from chalicelib.services.admin.staff import refusal

    reason = refusal(staff)
    if reason == "account_disabled":
        _audit_refusal(staff, request, 401)
    if reason:
        error = _unauthorized(reason.replace("_", "-"), ROSTER_REFUSALS[reason])
        error.code = reason
        raise error


def _rate_limit(staff: Staff) -> None:
    """Each staff member's requests per minute, the comune's `limits` setting: a runaway script gets 429s, not
    the comune's whole DynamoDB capacity. (API Gateway's stage throttling guards the whole API in front.)"""
    from chalicelib.domain.settings import DEFAULT_LIMITS

    tenant = directory.get_tenant(staff.tenant_id)
    per_minute = (tenant.limits if tenant else DEFAULT_LIMITS).staff_requests_per_minute
    per_subject(Limit("staff", per_minute, 60), f"{staff.tenant_id}:{staff.subject}",
                f"More than {per_minute} requests a minute: retry later.")


def _audit_refusal(staff: Staff, request, status: int) -> None:
    """An authenticated request refused (403) or pointed at nothing of the comune (404: another comune's id, a
    guessed one) goes to the actor's own comune's audit log. The answer stands even if this write fails."""
    from chalicelib.services import access

    try:
        access.record(staff, f"refused.{status}", f"{request.method} {_concrete_path(request)}"[:512],
                            request.context.get("requestId"))
    except Exception:  # noqa: BLE001 - the refusal is the answer; a lost audit line is logged, not raised
        logger.exception("could not audit a refused request")


def _concrete_path(request) -> str:
    """The path asked for (Chalice gives the route's template, /api/v1/reports/{report_id})."""
    path = request.path
    for name, value in (request.uri_params or {}).items():
        path = path.replace("{" + name + "}", value)
    return path
