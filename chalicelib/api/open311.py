"""Open311 GeoReport v2 at /open311/v2: discovery, services, requests, tokens and request updates, in
JSON and XML, with the spec's error format. Paths end in .json or .xml, as the spec writes them."""
from __future__ import annotations

import functools
import json
import re
from urllib.parse import parse_qs
from xml.etree import ElementTree

from chalice import Blueprint, Response

from chalicelib.api import lazy
from chalicelib.api.http import client_ip
from chalicelib.services import abuse
from chalicelib.settings import get_settings

open311 = lazy("chalicelib.services.reports.open311")

bp = Blueprint(__name__)
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
MAX_FORM_BYTES = 16 * 1024
POSTS_PER_CLIENT = abuse.Limit("open311-post", max_hits=60, window_seconds=3600)
READS_PER_CLIENT = abuse.Limit("open311-read", max_hits=600, window_seconds=600)  # the portal's public reads' rate
# What XML 1.0 allows (section 2.2, production [2] Char): anything else makes the document not well-formed, and
# has no character reference either, so it is dropped. Citizens and staff can type \u0001 or \uffff.
NOT_XML_CHAR = re.compile(r"[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")
# XML element names: the list wrapper and its items, per document
WRAPPERS = {"services": ("services", "service"), "requests": ("service_requests", "request"),
            "tokens": ("service_requests", "request"), "updates": ("service_request_updates", "request_update")}


def _split(name: str) -> tuple[str, str]:
    stem, dot, fmt = name.rpartition(".")
    if not dot or fmt not in FORMATS or not stem:
        raise open311.Open311Error(404, "not found: paths end in .json or .xml")
    return stem, fmt


def open311_answer(view):
    """Render what a view returns in the requested format; open311.Open311Error in the spec's error format."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        fmt = "json"
        try:
            name = kwargs.get("name") or kwargs.get("file") or ""
            fmt = name.rpartition(".")[2] if name.rpartition(".")[2] in FORMATS else "json"
            if bp.current_request.method == "GET":
                _count(READS_PER_CLIENT)
            kind, body = view(*args, **kwargs)
            return _render(kind, body, fmt)
        except open311.Open311Error as error:
            return _render("errors", [{"code": error.code, "description": error.description}], fmt, error.status,
                           error.headers)
    return wrapper


def _render(kind: str, body, fmt: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    text = json.dumps(body, ensure_ascii=False) if fmt == "json" else _xml(kind, body)
    return Response(body=text, status_code=status, headers={"Content-Type": FORMATS[fmt], **(headers or {})})


def _count(limit: abuse.Limit) -> None:
    """One request of this client against limit; 429 with Retry-After, in the spec's error format, once spent."""
    try:
        abuse.check(limit, client_ip(bp.current_request))
    except abuse.TooMany as exc:
        raise open311.Open311Error(429, "too many requests from this client: retry later",
                           headers={"Retry-After": str(exc.retry_after)}) from None


def _xml(kind: str, body) -> str:
    if kind == "errors":
        root = ElementTree.Element("errors")
        for item in body:
            _fill(ElementTree.SubElement(root, "error"), item)
    elif kind in WRAPPERS:
        wrapper, item_name = WRAPPERS[kind]
        root = ElementTree.Element(wrapper)
        for item in body:
            _fill(ElementTree.SubElement(root, item_name), item)
    else:  # a single document: discovery, service_definition
        root = ElementTree.Element(kind)
        _fill(root, body)
    return '<?xml version="1.0" encoding="utf-8"?>' + ElementTree.tostring(root, encoding="unicode")


def _fill(element: ElementTree.Element, item: dict) -> None:
    singular = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value"}
    for key, value in item.items():
        child = ElementTree.SubElement(element, key)
        if isinstance(value, list):
            for entry in value:
                sub = ElementTree.SubElement(child, singular.get(key, "item"))
                if isinstance(entry, dict):
                    _fill(sub, entry)
                else:
                    sub.text = xml_text(entry)
        elif isinstance(value, bool):
            child.text = "true" if value else "false"
        elif value is not None:
            child.text = xml_text(value)


def xml_text(value) -> str:
    """A value as element text: ElementTree escapes markup but writes forbidden characters as they are."""
    return NOT_XML_CHAR.sub("", str(value))


def _query(name: str) -> str | None:
    """An optional argument; empty behaves exactly like absent (the spec's rule)."""
    value = (bp.current_request.query_params or {}).get(name)
    return value or None


@bp.route("/open311/v2/{name}", methods=["GET", "POST"],
          content_types=["application/x-www-form-urlencoded", "application/json"])
@open311_answer
def document(name: str):
    stem, fmt = _split(name)
    request = bp.current_request
    if stem == "discovery":
        return "discovery", open311.discovery(get_settings().public_base_url)
    if stem == "requests" and request.method == "POST":
        return _post_request()
    if request.method != "GET":
        raise open311.Open311Error(400, f"{request.method} is not supported on {stem}")
    comune = open311.tenant(_query("jurisdiction_id"))
    if stem == "services":
        return "services", open311.services(comune)
    if stem == "requests":
        return "requests", open311.get_requests(
            comune, _query("service_request_id"), _query("service_code"), _query("start_date"), _query("end_date"),
            _query("status"), _query("page"), _query("page_size"))
    if stem == "servicerequestupdates":
        return "updates", open311.updates(comune, _query("start_date"), _query("end_date"))
    raise open311.Open311Error(404, f"not found: {stem}")


def _post_request():
    request = bp.current_request
    raw = request.raw_body or b""
    if len(raw) > MAX_FORM_BYTES:
        raise open311.Open311Error(413, f"the request body is larger than {MAX_FORM_BYTES} bytes")
    _count(POSTS_PER_CLIENT)
    fields = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", errors="replace"), keep_blank_values=False).items()}
    comune = open311.tenant(fields.get("jurisdiction_id"))
    form = open311.NewRequest(**{k: fields.get(k) for k in open311.NewRequest.__dataclass_fields__
                                 if k != "service_code"}, service_code=fields.get("service_code", ""))
    return "requests", [open311.post_request(comune, fields.get("api_key"), form)]


@bp.route("/open311/v2/services/{file}", methods=["GET"])
@open311_answer
def service_definition(file: str):
    code, _ = _split(file)
    return "service_definition", open311.service_definition(open311.tenant(_query("jurisdiction_id")), code)


@bp.route("/open311/v2/requests/{file}", methods=["GET"])
@open311_answer
def one_request(file: str):
    request_id, _ = _split(file)
    return "requests", open311.get_request(open311.tenant(_query("jurisdiction_id")), request_id)


@bp.route("/open311/v2/tokens/{file}", methods=["GET"])
@open311_answer
def one_token(file: str):
    value, _ = _split(file)
    return "tokens", open311.token(open311.tenant(_query("jurisdiction_id")), value)
