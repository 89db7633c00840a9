"""GET /api/v1/openapi.json: the OpenAPI 3.1 document of /api/v1 and /public/v1, built from the app's routes.

Served to anyone: it holds no data.

A route declares its entry with @documented, just under @bp.route: its answers and query parameters (by the name
of their models in api/schemas/), its body, the errors it adds, links to follow. The rest comes from the route
itself: the summary from the view's docstring, path parameters from the path (api/schemas/common.PathParameters),
bearer security and roles from staff_only's capabilities (domain/access.py), the tag from the blueprint's module.

The document is built on the first request and kept. Entries name their models rather than import them: the
models are only the document's, and importing some seventy pydantic classes would cost every cold start 30-45 ms."""
from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api import lazy_attribute
from chalicelib.api.http import JSON_ERROR_PREFIXES, chalice_errors_as_json
from chalicelib.domain.access import roles_for

if TYPE_CHECKING:
    from pydantic import BaseModel

bp = Blueprint(__name__)
# Chalice applies a blueprint's middleware to the whole app: with it, the 405 and 415 that Chalice itself gives
# under /api/v1 and /public/v1 have the documented error shape too.
bp.register_middleware(chalice_errors_as_json, "http")

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
REF = "#/components/schemas/{model}"
SCHEMAS = "chalicelib.api.schemas"
# Examples name the demo comune of make dev (local/seed.py) and its broadcast channel.
DEMO_TENANT, DEMO_BROADCAST = "demo", "100000000000001"
INFO = {
    "title": "Filo Diretto API", "version": API_VERSION,
    "description": "The staff API of a comune's WhatsApp line (bearer JWT with the tenant and roles) and the "
                   "citizens' public endpoints. Errors: {\"error\": {\"code\", \"message\", \"details\"?}}.",
}
SECURITY_SCHEMES = {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                   "description": "Cognito ID token: custom:tenant, cognito:groups."}}
ERRORS = {  # status: (component name, description)
    400: ("BadRequest", "The body is not valid JSON."),
    401: ("Unauthorized", "No bearer token, or one that is invalid, expired or carries no tenant; or the staff member "
                          "is disabled (account_disabled) or their roles changed since the token (roles_changed)."),
    403: ("Forbidden", "The caller's roles do not reach this."),
    404: ("NotFound", "No such thing for the caller's comune."),
    409: ("Conflict", "The thing's current state does not allow this step, or it changed meanwhile."),
    410: ("Gone", "The signed link expired, or what it named is no longer there (agenda)."),
    413: ("TooLarge", "The request body is larger than the endpoint takes."),
    415: ("UnsupportedMediaType", "The body's Content-Type is not one the operation takes."),
    422: ("Unprocessable", "Some fields or parameters are missing or invalid; `details` names the fields when it can."),
    429: ("TooManyRequests", "Too many requests: wait for Retry-After seconds."),
    502: ("BadGateway", "WhatsApp (Meta's Graph API) refused or did not answer as expected: try again later."),
    503: ("Unavailable", "Not available for this comune yet."),
}
INTEGER = {"type": "integer"}
ERROR_HEADERS = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer realm=..."}},
    429: {"Retry-After": {"schema": INTEGER, "description": "Seconds to wait."},
          "X-RateLimit-Limit": {"schema": INTEGER, "description": "Requests allowed in the window."},
          "X-RateLimit-Remaining": {"schema": INTEGER, "description": "Requests left: 0."},
          "X-RateLimit-Reset": {"schema": INTEGER, "description": "Seconds until the window ends."}},
}


@dataclass(frozen=True)
class Entry:
    """A route's entry in the document, as @documented declares it."""

    responses: dict[int, str | None]  # status: the answer's model in api/schemas/, None for no body
    # the model parse_body validates, named "package.module:Model" (imported when the document is built, so the
    # service that defines it stays out of the cold start); for a raw body, the name of a type of api/schemas/
    body: type[BaseModel] | str | None = None
    example: Any = None  # a body as the operation takes it
    query: str | None = None  # a model of api/schemas/: one field per query parameter
    errors: tuple[int, ...] = ()  # besides those staff_only gives (401, 429; 403 with capabilities) and a body's
    links: dict[str, dict[str, str]] = field(default_factory=dict)  # operationId: its parameters from the answer


def documented(responses: dict[int, str | None], *, body: type[BaseModel] | str | None = None, example: Any = None,
               query: str | None = None, errors: tuple[int, ...] = (),
               links: dict[str, dict[str, str]] | None = None) -> Callable:
    """Mark a view with its entry in the OpenAPI document; put it just under @bp.route."""
    entry = Entry(responses, body, example, query, tuple(errors), links or {})

    def mark(view: Callable) -> Callable:
        view.openapi_entry = entry
        return view
    return mark


@bp.route("/api/v1/openapi.json", methods=["GET"])
@documented({200: "OpenApiDocument"})
def openapi_document():
    """This document (no authentication)."""
    return Response(body=_document_json(bp.current_app), status_code=200,
                    headers={"Content-Type": "application/json", "Cache-Control": "public, max-age=300"})


@lru_cache(maxsize=1)
def _document_json(app) -> str:
    return json.dumps(document(app.routes), ensure_ascii=False)


def document(routes: dict) -> dict:
    """The document of every route under /api/v1 and /public/v1 that carries an entry (Chalice's app.routes)."""
    documented_routes = [(path, route) for path, methods in routes.items() if path.startswith(JSON_ERROR_PREFIXES)
                         for route in methods.values() if hasattr(route.view_function, "openapi_entry")]
    entries = [route.view_function.openapi_entry for _, route in documented_routes]
    refs, components = _model_schemas({_named("Error")} | {model for entry in entries for model in _models(entry)})
    paths: dict[str, dict] = {}
    for path, route in documented_routes:
        paths.setdefault(path, {})[route.method.lower()] = _operation(path, route, refs, components)
    _check_operation_ids(paths, entries)
    return {
        "openapi": OPENAPI_VERSION, "info": INFO, "security": [{"bearerAuth": []}],
        "tags": _tags(route.view_function for _, route in documented_routes),
        "paths": paths,
        "components": {"securitySchemes": SECURITY_SCHEMES, "schemas": dict(sorted(components.items())),
                       "responses": _error_responses(refs[_named("Error")])},
    }


# ---- schemas ----------------------------------------------------------------------------------------------


@cache
def _named(name: str) -> Any:
    """The model (or annotated type) of that name in api/schemas/."""
    package = importlib.import_module(SCHEMAS)
    modules = [importlib.import_module(f"{SCHEMAS}.{info.name}") for info in pkgutil.iter_modules(package.__path__)]
    found = {id(value): value for module in modules if (value := getattr(module, name, None)) is not None}
    if len(found) != 1:
        raise ValueError(f"{len(found)} things named {name} in api/schemas/: an entry names one of them")
    return found.popitem()[1]


def _is_model(value: Any) -> bool:
    from pydantic import BaseModel

    return isinstance(value, type) and issubclass(value, BaseModel)


def _body(entry: Entry) -> Any:
    if isinstance(entry.body, str):
        return lazy_attribute(entry.body) if ":" in entry.body else _named(entry.body)
    return entry.body


def _models(entry: Entry) -> set[type[BaseModel]]:
    """The models whose schemas go into the components: answers and a JSON body."""
    body = _body(entry)
    return {_named(name) for name in entry.responses.values() if name} | ({body} if _is_model(body) else set())


def _model_schemas(models: set[type[BaseModel]]) -> tuple[dict[type[BaseModel], dict], dict[str, dict]]:
    """Each model's reference, and the components' schemas: the models and the ones they use ($defs hoisted;
    pydantic writes JSON Schema 2020-12, as OpenAPI 3.1 does, and names apart models of the same name)."""
    from pydantic.json_schema import models_json_schema

    ordered = sorted(models, key=lambda model: (model.__name__, model.__module__))
    refs, schemas = models_json_schema([(model, "validation") for model in ordered], ref_template=REF)
    return {model: ref for (model, _), ref in refs.items()}, schemas.get("$defs", {})


def _properties(name: str, components: dict[str, dict]) -> tuple[dict[str, dict], set[str]]:
    """A parameters model's properties and required names; any schema they use goes into the components."""
    schema = _named(name).model_json_schema(ref_template=REF)
    for used, definition in schema.get("$defs", {}).items():
        if components.setdefault(used, definition) != definition:
            raise ValueError(f"two schemas named {used}: rename one model")
    return schema["properties"], set(schema.get("required", ()))


# ---- operations -------------------------------------------------------------------------------------------


def _operation(path: str, route, refs: dict, components: dict[str, dict]) -> dict:
    view = route.view_function
    entry: Entry = view.openapi_entry
    capabilities = getattr(view, "staff_capabilities", None)  # None: open to anyone
    summary, description = _docstring(view)
    operation: dict[str, Any] = {"operationId": _camel(view.__name__), "tags": [_tag(view)], "summary": summary}
    roles = sorted(roles_for(capabilities or ()))
    if roles:
        operation["x-roles"] = roles
        description = "\n\n".join(filter(None, (description, f"Roles: {', '.join(roles)}.")))
    if description:
        operation["description"] = description
    parameters = _parameters(path, entry.query, components)
    if parameters:
        operation["parameters"] = parameters
    if entry.body is not None:
        operation["requestBody"] = _request_body(entry, route.content_types, refs)
    operation["responses"] = dict(sorted({**_answers(entry, refs), **_errors(entry, capabilities)}.items()))
    if capabilities is None:
        operation["security"] = []
    return operation


def _docstring(view: Callable) -> tuple[str, str]:
    """(summary, description): the view's docstring, first paragraph and the rest."""
    text = inspect.getdoc(view)
    if not text:
        raise ValueError(f"{view.__module__}.{view.__name__} needs a docstring: it is the operation's summary")
    _, _, rest = text.partition("\n\n")
    return _first_paragraph(text), rest.strip()


def _first_paragraph(text: str) -> str:
    return " ".join(text.split("\n\n")[0].split())


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


def _tag(view: Callable) -> str:
    return view.__module__.rsplit(".", 1)[-1]


def _tags(views) -> list[dict]:
    """One tag per blueprint module, described by the module's docstring, in the order of the routes."""
    modules = dict.fromkeys(view.__module__ for view in views)
    return [{"name": module.rsplit(".", 1)[-1], "description": _first_paragraph(inspect.getdoc(sys.modules[module]))}
            for module in modules]


def _parameters(path: str, query: str | None, components: dict[str, dict]) -> list[dict]:
    described, _ = _properties("PathParameters", components)
    parameters = []
    for name in re.findall(r"{(\w+)}", path):
        if name not in described:
            raise ValueError(f"{path}: describe {name} in api/schemas/common.PathParameters")
        parameters.append(_parameter(name, "path", described[name], required=True))
    if query is not None:
        properties, required = _properties(query, components)
        parameters += [_parameter(name, "query", schema, name in required) for name, schema in properties.items()]
    return parameters


def _parameter(name: str, where: str, schema: dict, required: bool) -> dict:
    schema = _without_null(schema)
    parameter = {"name": name, "in": where, "required": required}
    if "description" in schema:
        parameter["description"] = schema.pop("description")
    return {**parameter, "schema": schema}


def _without_null(schema: dict) -> dict:
    """A parameter's schema: an absent parameter is the field's None, so null is no value it takes."""
    plain = {key: value for key, value in schema.items() if key != "title" and not (key == "default" and value is None)}
    branches = [branch for branch in plain.pop("anyOf", []) if branch != {"type": "null"}]
    if len(branches) == 1:
        plain.update(branches[0])
    elif branches:
        plain["anyOf"] = branches
    return plain


def _request_body(entry: Entry, content_types: list[str], refs: dict) -> dict:
    from pydantic import TypeAdapter

    body = _body(entry)
    schema = refs[body] if _is_model(body) else TypeAdapter(body).json_schema()
    media: dict[str, Any] = {"schema": schema}
    if entry.example is not None:
        media["example"] = entry.example
    return {"required": True, "content": {content_type: media for content_type in content_types}}


def _answers(entry: Entry, refs: dict) -> dict:
    return {str(status): _answer(what, refs, entry.links) for status, what in entry.responses.items()}


def _answer(name: str | None, refs: dict, links: dict[str, dict[str, str]]) -> dict:
    if name is None:
        return {"description": "No content."}
    model = _named(name)
    if not model.__doc__:
        raise ValueError(f"{name} needs a docstring: it describes the answer")
    answer = {"description": _first_paragraph(model.__doc__), "content": _content(model, refs)}
    if getattr(model, "HEADERS", None):
        answer["headers"] = model.HEADERS
    if links:
        answer["links"] = {target[0].upper() + target[1:]: {"operationId": target, "parameters": parameters}
                           for target, parameters in links.items()}
    return answer


def _content(model: type[BaseModel], refs: dict) -> dict:
    """JSON by the model's schema; a file (a model with MEDIA_TYPES, e.g. an export) as bytes of those types."""
    media_types = getattr(model, "MEDIA_TYPES", None)
    if media_types:
        return {media_type: {"schema": {"type": "string", "contentMediaType": media_type}} for media_type in media_types}
    return {"application/json": {"schema": refs[model]}}


def _errors(entry: Entry, capabilities: frozenset | None) -> dict:
    """The error answers: the entry's, staff_only's (401, 429, and 403 when it checks capabilities) and a
    body's (415; 400 and 422 for JSON that parse_body validates)."""
    codes = set(entry.errors)
    if capabilities is not None:
        codes |= {401, 429} | ({403} if capabilities else set())
    if entry.body is not None:
        codes |= {415} | ({400, 422} if _is_model(_body(entry)) else set())
    return {str(code): {"$ref": f"#/components/responses/{ERRORS[code][0]}"} for code in sorted(codes)}


def _error_responses(error: dict) -> dict:
    responses = {}
    for code, (name, description) in ERRORS.items():
        answer: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": error}}}
        if code in ERROR_HEADERS:
            answer["headers"] = ERROR_HEADERS[code]
        responses[name] = answer
    return responses


def _check_operation_ids(paths: dict[str, dict], entries: list[Entry]) -> None:
    """Operation ids (the views' names) are unique, and every link leads to one."""
    ids = [operation["operationId"] for item in paths.values() for operation in item.values()]
    if len(set(ids)) != len(ids):
        raise ValueError(f"two views of the same name: {sorted({i for i in ids if ids.count(i) > 1})}")
    unknown = {target for entry in entries for target in entry.links} - set(ids)
    if unknown:
        raise ValueError(f"links to no operation: {sorted(unknown)}")
