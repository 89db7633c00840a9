"""Abuse limits at the edge: request size (413) and per-client rates (429 with Retry-After)."""
from __future__ import annotations

from chalicelib.api.http import ApiError, client_ip
from chalicelib.services import abuse


def body_at_most(request, max_bytes: int) -> bytes:
    """The raw body, or 413 when it is larger than the endpoint takes."""
    raw = request.raw_body or b""
    if len(raw) > max_bytes:
        raise ApiError(413, "too_large", f"The request body is larger than {max_bytes} bytes.")
    return raw


def per_client(request, limit: abuse.Limit) -> None:
    """Count one request of this client (its source IP); 429 with Retry-After once the window is spent."""
    per_subject(limit, client_ip(request))


def per_subject(limit: abuse.Limit, subject: str, message: str = "Too many requests: retry later.") -> None:
    """Count one request of subject; 429 with Retry-After and the X-RateLimit-* headers (ModI) once it is spent."""
    try:
        abuse.check(limit, subject)
    except abuse.TooMany as exc:
        raise too_many(exc, message) from None


def too_many(exc: abuse.TooMany, message: str) -> ApiError:
    return ApiError(429, "too_many_requests", message, headers={
        "Retry-After": str(exc.retry_after), "X-RateLimit-Limit": str(exc.limit.max_hits),
        "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(exc.retry_after)})
