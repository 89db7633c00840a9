"""JSON errors, bodies and paging shared by the blueprints."""
from __future__ import annotations

import functools
import hmac
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice import Response

from chalicelib.domain.numbers import whole_number
from chalicelib.services.forms import FormRefused
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from pydantic import BaseModel

MAX_PAGE = 100
JSON_ERROR_PREFIXES = ("/api/v1/", "/public/v1/")  # the APIs that promise {"error": ...} for every refusal
CHALICE_ERRORS = {405: "method_not_allowed", 415: "unsupported_media_type"}


class ApiError(Exception):
    """An answer other than success, as clear JSON: {"error": {"code", "message", "details"?}}
    (documented by api/schemas/common.Error)."""

    def __init__(self, status: int, code: str, message: str, details: Any = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details
        self.headers = headers or {}

    def response(self) -> Response:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return Response(body={"error": error}, status_code=self.status,
                        headers={"Content-Type": "application/json", **self.headers})


def json_errors(view: Callable) -> Callable:
    """Turn ApiError raised anywhere in a view into its JSON answer, and a form's refusal into a 422."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except ApiError as error:
            return error.response()
        except FormRefused as refused:
            return ApiError(422, "invalid_request", str(refused), [{"field": refused.field, "message": str(refused)}]
                            ).response()
    return wrapper


def chalice_errors_as_json(request, get_response) -> Response:
    """HTTP middleware: Chalice's own refusals (405 for a method the path lacks, 415 for a Content-Type the route
    does not take) in the same JSON error shape as ours, on the APIs that promise it."""
    response = get_response(request)
    body = response.body
    if (response.status_code in CHALICE_ERRORS and isinstance(body, dict) and "Code" in body
            and request.path.startswith(JSON_ERROR_PREFIXES)):
        headers = {k: v for k, v in response.headers.items() if k.lower() == "allow"}
        return ApiError(response.status_code, CHALICE_ERRORS[response.status_code], str(body.get("Message")),
                        headers=headers).response()
    return response


def parse_body(request, model: type[BaseModel]) -> Any:
    """The JSON body validated against model; 400 when not JSON, 422 with field errors when invalid."""
    from pydantic import ValidationError  # pydantic's models load with the first route that takes a body

    try:
        data = json.loads(request.raw_body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", "The body is not valid JSON.") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        raise ApiError(422, "invalid_request", "Some fields are missing or invalid.", details) from None


def query_param(request, name: str, default: str | None = None) -> str | None:
    return (request.query_params or {}).get(name, default)


def page_limit(request, default: int = 50) -> int:
    return number_param(request, "limit", default, MAX_PAGE)


def number_param(request, name: str, default: int, most: int) -> int:
    """A whole number from 1 to most in the query (default when absent); 422 for anything else."""
    raw = query_param(request, name)
    if raw is None:
        return default
    number = whole_number(raw)
    if number is None or not 1 <= number <= most:
        raise ApiError(422, "invalid_request", f"{name} must be a number from 1 to {most}.")
    return number


def client_ip(request) -> str:
    """Who is calling, for per-client limits. Behind CloudFront, API Gateway's source address is an edge server
    shared by many citizens; a request that carries the distribution's secret origin header is taken to come
    through it, and its CloudFront-Viewer-Address ("ip:port") names the client. Without the secret the header is
    ignored, since anyone may send it straight to API Gateway."""
    headers = request.headers or {}
    secret, viewer = get_settings().edge_secret, headers.get("cloudfront-viewer-address")
    if secret and viewer and hmac.compare_digest(headers.get("x-filo-edge", ""), secret):
        return viewer.rsplit(":", 1)[0].strip("[]") or "unknown"
    identity = (request.context or {}).get("identity") or {}
    return identity.get("sourceIp") or "unknown"
