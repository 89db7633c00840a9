"""The OpenAPI 3.1 document of the staff API (/api/v1) and the citizens' endpoints (/public/v1).

Request bodies come from the pydantic models the views validate with; answers are written out here from the
views' own shapes. tests/integration/test_openapi.py runs schemathesis against the app to keep both true, and
fails when a route of the app is missing from the document."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from chalicelib.api.http import MAX_PAGE
from chalicelib.domain import broadcasts as broadcast_rules
from chalicelib.domain import reports as report_rules
from chalicelib.domain import subscriptions as subscription_rules
from chalicelib.domain.access import ROLES, Capability, roles_for
from chalicelib.services.admin import privacy
from chalicelib.services.broadcasts import compose
from chalicelib.services.reports import desk as report_desk
from chalicelib.services.reports import web_form as report_form
from chalicelib.services.subscriptions import subscribers as subscriber_admin
from chalicelib.services.subscriptions import web_form as subscription_form

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
BROADCAST_STATUSES = tuple(broadcast_rules.ACTIONS)
DEMO_BROADCAST, DEMO_REPORTS = "100000000000001", "100000000000002"  # examples: the demo comune of make dev

# ---- small builders -----------------------------------------------------------------------------------


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _null(schema: dict) -> dict:
    """schema or null."""
    return {"anyOf": [schema, {"type": "null"}]}


def _obj(required: dict[str, dict], optional: dict[str, dict] | None = None, closed: bool = True) -> dict:
    """An object with these properties; closed: no other property (an undocumented field fails the test)."""
    schema: dict[str, Any] = {"type": "object", "properties": {**required, **(optional or {})},
                              "required": list(required)}
    if closed:
        schema["additionalProperties"] = False
    return schema


def _counts() -> dict:
    return {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}


STR, INT, BOOL, NUM = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}, {"type": "number"}
TIME = {"type": "string", "format": "date-time"}
COUNT = {"type": "integer", "minimum": 0}


def _json(schema: dict, example: Any = None) -> dict:
    media: dict[str, Any] = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"application/json": media}


def _answer(description: str, schema: dict | None = None, links: dict | None = None) -> dict:
    answer: dict[str, Any] = {"description": description}
    if schema is not None:
        answer["content"] = _json(schema)
    if links:
        answer["links"] = links
    return answer


def _errors(*codes: int) -> dict:
    return {str(code): {"$ref": f"#/components/responses/{ERRORS[code][0]}"} for code in codes}


def _param(name: str, where: str, schema: dict, description: str, required: bool = False,
           example: Any = None) -> dict:
    param = {"name": name, "in": where, "required": required or where == "path", "schema": schema,
             "description": description}
    if example is not None:
        param["example"] = example
    return param


def _limit(default: int) -> dict:
    return _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": default},
                  f"Items per page, 1 to {MAX_PAGE}.")


CURSOR = _param("cursor", "query", {"type": "string"}, "The `next` of the previous page, as given.")


def _channel(default_kind: str | None = "broadcast", example: str | None = DEMO_BROADCAST) -> dict:
    default = f"the comune's only {default_kind} channel" if default_kind else "every channel the roles reach"
    return _param("channel", "query", {"type": "string"}, f"A channel's phone_number_id; when absent, {default}.",
                  example=example)


def _op(operation_id: str, tag: str, summary: str, responses: dict, *, parameters: list | None = None,
        body: dict | None = None, roles: tuple[str, ...] = (), public: bool = False) -> dict:
    """One operation; staff operations get bearerAuth, the 401, the 429 of the per-staff rate limit (and 403 when
    roles are checked)."""
    op: dict[str, Any] = {"operationId": operation_id, "tags": [tag], "summary": summary}
    if roles:
        op["description"] = f"Roles: {', '.join(roles)}."
    if parameters:
        op["parameters"] = parameters
    if body:
        op["requestBody"] = {"required": True, "content": body}
        responses = {**responses, **_errors(415)}
    if public:
        op["security"] = []
    else:
        responses = {**responses, **_errors(401, 429), **(_errors(403) if roles else {})}
    op["responses"] = dict(sorted(responses.items()))
    return op


# ---- what the views answer ------------------------------------------------------------------------------

ERRORS = {  # status: (component name, description)
    400: ("BadRequest", "The body is not valid JSON."),
    401: ("Unauthorized", "No bearer token, or one that is invalid, expired or carries no tenant."),
    403: ("Forbidden", "The caller's roles do not reach this."),
    404: ("NotFound", "No such thing for the caller's comune."),
    409: ("Conflict", "The thing's current state does not allow this step, or it changed meanwhile."),
    413: ("TooLarge", "The request body is larger than the endpoint takes."),
    415: ("UnsupportedMediaType", "The body's Content-Type is not one the operation takes."),
    422: ("Unprocessable", "Some fields or parameters are missing or invalid; `details` names the fields when it can."),
    429: ("TooManyRequests", "Too many requests: wait for Retry-After seconds."),
    503: ("Unavailable", "Not available for this comune yet."),
}

ERROR = _obj({"error": _obj(
    {"code": {"type": "string", "description": "Stable, machine-readable: not_found, invalid_request, ..."},
     "message": {"type": "string", "description": "For people."}},
    {"details": {"type": "array", "items": _obj({"field": STR, "message": STR})}})})

ME = _obj({"subject": STR, "email": _null(STR), "tenant": STR,
           "roles": {"type": "array", "items": {"enum": sorted(ROLES)}}})

CHANNEL = _obj({"phone_number_id": STR, "kind": {"enum": ["broadcast", "reports", "safety"]}, "name": STR,
                "display_phone_number": STR, "templates": {"type": "array", "items": _obj(
                    {"name": STR, "language": STR, "category": STR})}})

SUBSCRIBER = _obj(
    {"phone": _null(STR), "user_id": _null(STR), "channel": STR, "status": {"enum": list(subscription_rules.STATUSES)},
     "hamlets": {"type": "array", "items": STR}, "topics": {"type": "array", "items": STR}, "source": _null(STR),
     "subscribed_at": _null(TIME), "stopped_at": _null(TIME), "last_inbound_at": _null(TIME),
     "created_at": _null(TIME)},
    {"name": _null(STR), "address": _null(STR), "hamlet": _null(STR)})

CONSENT = _obj({"channel": STR, "action": {"enum": ["grant", "withdraw"]}, "purpose": STR, "path": STR,
                "notice_version": _null(STR), "message_id": _null(STR), "actor": _null(STR), "recorded_at": TIME})

IMPORT_RESULT = _obj({
    "summary": _obj({"created": COUNT, "updated": COUNT, "error": COUNT}),
    "rows": {"type": "array", "items": _obj({"row": {"type": "integer", "minimum": 2},
                                             "result": {"enum": ["created", "updated", "error"]}},
                                            {"phone": STR, "error": STR})},
})

AUDIT_ENTRY = _obj({"at": TIME, "actor": STR, "action": STR, "target": STR})

BROADCAST = _obj({
    "id": STR, "channel": STR, "status": {"enum": list(BROADCAST_STATUSES)},
    "content": _obj({}, {"text": STR, "template": _obj({"name": STR}, {"language": STR, "parameters": {
        "type": "array", "items": STR}}), "image_url": STR}),
    "audience": _obj({"hamlets": {"type": "array", "items": STR}, "topics": {"type": "array", "items": STR}}),
    "priority": {"enum": list(broadcast_rules.PRIORITIES)}, "send_at": TIME, "due_at": TIME, "created_by": STR,
    "created_at": TIME, "started_at": _null(TIME), "finished_at": _null(TIME), "pause_reason": _null(STR),
    "fanout_done": BOOL, "progress": {"type": "number", "minimum": 0, "maximum": 100},
    "counters": _obj({"recipients": COUNT, "sent": COUNT, "delivered": COUNT, "read": COUNT, "failed": COUNT,
                      "skipped": COUNT, "ambiguous": COUNT, "failed_by_reason": _counts()}),
})

PREVIEW = _obj({
    "audience": COUNT, "outside_window": COUNT,
    "template": _obj({"needed": BOOL, "name": _null(STR), "approved": BOOL, "category": _null(STR)}),
    "messaging_limit": INT, "rate_per_second": NUM, "estimated_seconds": _null(NUM), "due_at": TIME,
    "warnings": {"type": "array", "items": STR},
})

_REPORT_COMMON = {
    "id": STR, "number": {"type": "string", "examples": ["2026/42"]}, "kind": {"enum": list(report_rules.KINDS)},
    "status": {"enum": list(report_rules.STATUSES)}, "category": _null(STR), "hamlet": _null(STR), "source": STR,
    "location": _null(_obj({"latitude": NUM, "longitude": NUM, "address": _null(STR)})), "address": _null(STR),
    "team": _null(STR), "external_body": _null(STR), "text": STR, "followers": COUNT, "duplicate_of": _null(STR),
    "created_at": TIME, "updated_at": TIME,
}
REPORT_SUMMARY = _obj({**_REPORT_COMMON, "photos": {"type": "integer", "minimum": 0,
                                                    "description": "Photos stored."}})
REPORT = _obj({
    **_REPORT_COMMON,
    "contact": {"type": "object", "additionalProperties": STR, "description": "Desk reports: name, phone, email."},
    "outcome": _null(STR), "external": _null({"type": "object"}),
    "photos": {"type": "array", "items": _obj({
        "id": STR, "status": {"enum": ["stored", "pending", "refused", "failed"]}, "reason": _null(STR),
        "content_type": _null(STR), "size": _null(INT),
        "published": {"type": "boolean", "description": "Shown (its copy without metadata) on the citizen portal."},
        "url": _null({"type": "string", "description": "A presigned link, valid 5 minutes."})})},
    "reporter": _null(_obj({"channel": _null(STR), "citizen": _null(STR)})),
    "first_response_at": _null(TIME), "resolved_at": _null(TIME),
    "events": {"type": "array", "items": _obj(
        {"at": TIME, "actor": STR, "action": STR, "public": BOOL, "note": _null(STR), "status": _null(STR)},
        {"data": {"type": "object"}})},
})

KPIS = _obj({
    "kinds": {"type": "array", "items": {"enum": list(report_rules.KINDS)}},
    "period": _obj({"from": TIME, "to": TIME}), "total": COUNT,
    "by_status": _obj({status: COUNT for status in report_rules.STATUSES}),
    "by_kind": _counts(), "by_category": _counts(), "by_hamlet": _counts(), "by_week": _counts(),
    "median_hours_to_first_response": _null(NUM), "median_hours_to_resolution": _null(NUM),
    "satisfied_share": _null({"type": "number", "minimum": 0, "maximum": 1}), "satisfied": COUNT,
    "considered": COUNT,
})

# domain/geo.hamlet_features: what the console's and the portal's maps draw
HAMLETS = _obj({"type": {"const": "FeatureCollection"}, "features": {"type": "array", "items": _obj({
    "type": {"const": "Feature"}, "id": STR,
    "properties": _obj({"id": STR, "name": STR, "latitude": NUM, "longitude": NUM}),
    "geometry": _null(_obj({"type": {"enum": ["Polygon", "MultiPolygon"]}, "coordinates": {"type": "array"}},
                           closed=False))})}})
_NAMED = {"id": STR, "name": STR}
TENANT = _obj({
    "id": STR, "name": STR,
    "hamlets": HAMLETS,
    "topics": {"type": "array", "items": _obj(_NAMED)},
    "categories": {"type": "array", "items": _obj({**_NAMED, "team": _null(STR), "external_body": _null(STR)})},
    "teams": {"type": "array", "items": _obj(_NAMED)},
    "external_bodies": {"type": "array", "items": _obj(_NAMED)},
})
GROWTH = _obj({"channel": STR, "active": COUNT, "weeks": {"type": "array", "items": _obj(
    {"week": {"type": "string", "examples": ["2026-W47"]}, "active": COUNT})}})

PENDING = _obj({"status": {"const": "pending_confirmation"}, "message": STR})

# the citizen portal: nothing personal (no contact, no citizen's text or address), published photos' public copies
PORTAL = _obj({
    "tenant": STR, "name": STR, "privacy_notice_url": _null(STR), "privacy_notice_version": _null(STR),
    "hamlets": HAMLETS,
    "categories": {"type": "array", "items": _obj({"id": STR, "name": STR})},
    "topics": {"type": "array", "items": _obj({"id": STR, "name": STR})},
    "reports_whatsapp": _null({"type": "string", "description": "The reports channel's WhatsApp number."}),
    "subscriptions": {"type": "boolean", "description": "Whether the web subscription form is open."},
})
_PUBLIC_REPORT = {
    "id": STR, "number": {"type": "string", "examples": ["2026/42"]}, "category": _null(STR), "category_name": STR,
    "hamlet": _null(STR), "hamlet_name": _null(STR), "status": {"enum": list(report_rules.STATUSES)},
    "status_label": STR, "open": BOOL, "created_at": TIME, "updated_at": TIME,
    "location": _null(_obj({"latitude": NUM, "longitude": NUM})),
    "photos": {"type": "array", "items": _obj({"id": STR, "content_type": _null(STR), "url": {
        "type": "string", "description": "A presigned link to the copy without metadata, valid 15 minutes."}})},
}
PUBLIC_REPORTS = _obj({"items": {"type": "array", "items": _obj(_PUBLIC_REPORT)}, "generated_at": TIME})
PUBLIC_STATUS = _obj({**_PUBLIC_REPORT, "comune": STR, "duplicate_of": _null(STR), "events": {
    "type": "array", "items": _obj({"at": TIME, "status": _null(STR), "status_label": _null(STR),
                                    "note": _null(STR)})}})
FILED = _obj({"number": STR, "token": {"type": "string", "description": "Opens the report's status view."},
              "duplicate_of": _null(STR), "message": STR})

ERASURE = _obj({
    "subject": STR, "erased_at": TIME,
    "channels": {"type": "array", "items": _obj({
        "channel": STR, "kind": STR, "citizen_record": {"enum": ["deleted", "none"]}, "consent_ledger": STR})},
    "reports_anonymised": COUNT, "delivery_records_deleted": COUNT, "kept": {"type": "array", "items": STR},
})

_LIST = {"type": "array", "items": {"type": "object"}}
SUBJECT_EXPORT = _obj({
    "format": {"const": privacy.EXPORT_FORMAT}, "subject": STR, "tenant": STR, "generated_at": TIME,
    "generated_by": STR, "citizen_records": _LIST, "consents": {"type": "array", "items": _ref("Consent")},
    "reports": {"type": "array", "items": {"type": "object", "required": ["id", "number", "kind", "role", "status"],
                                           "properties": {"role": {"enum": ["reporter", "follower"]}}}},
    "deliveries": _LIST, "audit": {"type": "array", "items": _ref("AuditEntry")},
    "not_included": {"type": "array", "items": STR},
})


def _page(item: str) -> dict:
    return _obj({"items": {"type": "array", "items": _ref(item)},
                 "next": _null({"type": "string", "description": "Pass as cursor for the next page."})})


def _items(item: str) -> dict:
    return _obj({"items": {"type": "array", "items": _ref(item)}})


# ---- request bodies from the pydantic models ------------------------------------------------------------

MODELS: tuple[type[BaseModel], ...] = (
    subscriber_admin.NewSubscriber, compose.NewBroadcast, report_desk.DeskReport, report_desk.Transition,
    report_desk.Note, report_desk.Merge, subscription_form.FormRequest, privacy.SubjectRequest,
    report_desk.PhotoPublication, report_form.WebReport,
)


def _model_schemas() -> dict[str, dict]:
    """Each model's JSON schema, its $defs hoisted to components (pydantic writes JSON Schema 2020-12, as 3.1 does)."""
    schemas: dict[str, dict] = {}
    for model in MODELS:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return schemas


def _body(model: type[BaseModel], example: dict) -> dict:
    return _json(_ref(model.__name__), example)


# ---- the operations ---------------------------------------------------------------------------------------

SUBSCRIBER_ROLES = sorted(roles_for([Capability.SUBSCRIBERS]))
BROADCAST_ROLES = sorted(roles_for([Capability.BROADCASTS]))
REPORT_ROLES = sorted(roles_for([Capability.REPORTS, Capability.TIPS]))
ADMIN_ROLES = sorted(roles_for([Capability.PRIVACY]))

PHONE = _param("phone", "path", {"type": "string", "minLength": 1},
               "The citizen: an E.164 number in any usual writing, URL-encoded (%2B39...), or bsuid:<id>.",
               example="+393337654321")
BROADCAST_ID = _param("broadcast_id", "path", {"type": "string", "minLength": 1}, "The broadcast's id.")
REPORT_ID = _param("report_id", "path", {"type": "string", "minLength": 1},
                   "The report's id as listed (2026-0000042).", example="2026-0000001")
TIME_PARAM = {"type": "string", "anyOf": [{"format": "date"}, {"format": "date-time"}],
              "description": "An ISO date or date-time in the years 1971 to 2999; Europe/Rome when it has no offset.",
              "examples": ["2026-11-01", "2026-11-01T09:00:00+01:00"]}


def _subscriber_links() -> dict:
    target = {"path.phone": "$response.body#/phone", "query.channel": "$response.body#/channel"}
    return {"ReadSubscriber": {"operationId": "readSubscriber", "parameters": target},
            "SubscriberConsents": {"operationId": "listConsents", "parameters": target},
            "EraseSubscriber": {"operationId": "eraseSubscriber", "parameters": target}}


def _broadcast_links() -> dict:
    target = {"path.broadcast_id": "$response.body#/id"}
    return {name: {"operationId": op, "parameters": target} for name, op in (
        ("ReadBroadcast", "readBroadcast"), ("PreviewBroadcast", "previewBroadcast"),
        ("ActOnBroadcast", "actOnBroadcast"))}


def _report_links() -> dict:
    target = {"path.report_id": "$response.body#/id"}
    return {name: {"operationId": op, "parameters": target} for name, op in (
        ("ReadReport", "readReport"), ("TransitionReport", "transitionReport"), ("AddReportNote", "addReportNote"),
        ("MergeReport", "mergeReport"))}


def _staff_paths() -> dict:
    subscriber = _ref("Subscriber")
    return {
        "/api/v1/openapi.json": {"get": _op("openapi", "meta", "This document (no authentication).", {
            "200": {"description": "The OpenAPI 3.1 document.", "content": {"application/json": {
                "schema": {"type": "object", "required": ["openapi", "paths"]}}}}}, public=True)},
        "/api/v1/me": {"get": _op("me", "staff", "Who the token belongs to: tenant and roles.", {
            "200": _answer("The caller.", _ref("Me"))})},
        "/api/v1/channels": {"get": _op("listChannels", "staff", "The comune's channels the caller's roles reach.", {
            "200": _answer("The channels.", _items("Channel"))})},
        "/api/v1/subscribers": {
            "get": _op("listSubscribers", "subscribers", "A page of a channel's subscribers (audited).", {
                "200": _answer("A page of subscribers.", _page("Subscriber")), **_errors(404, 422)},
                parameters=[_channel(), _param("status", "query", {"enum": list(subscription_rules.STATUSES)},
                                                "Only subscribers in this status."),
                            _param("q", "query", {"type": "string"}, "A phone number or its beginning."),
                            _limit(50), CURSOR], roles=SUBSCRIBER_ROLES),
            "post": _op("addSubscriber", "subscribers", "Add (201) or update (200) a subscriber the comune holds "
                        "consent for; on a safety channel, a registered resident (name, address, hamlet).", {
                            "200": _answer("Updated.", subscriber, _subscriber_links()),
                            "201": _answer("Created.", subscriber, _subscriber_links()),
                            **_errors(400, 404, 422)},
                        body=_body(subscriber_admin.NewSubscriber, {
                            "channel": DEMO_BROADCAST, "phone": "+39 335 139 7378", "hamlets": ["pieve"],
                            "topics": ["allerte"]}), roles=SUBSCRIBER_ROLES),
        },
        "/api/v1/subscribers/import": {"post": _op(
            "importSubscribers", "subscribers",
            f"Add residents from a CSV file (UTF-8, first line naming the columns: phone, and optionally hamlets, "
            f"topics, name, address, hamlet; lists split by ';'), at most {subscriber_admin.MAX_IMPORT_ROWS} rows; "
            "one result per row.", {"200": _answer("One result per data row.", _ref("ImportResult")),
                                     **_errors(404, 422)},
            parameters=[_channel()], roles=SUBSCRIBER_ROLES,
            body={media: {"schema": {"type": "string"}, "example": "phone,hamlets,topics\n335 139 7378,pieve,allerte\n"}
                  for media in ("text/csv", "text/plain")})},
        "/api/v1/subscribers/{phone}": {
            "parameters": [PHONE],
            "get": _op("readSubscriber", "subscribers", "One subscriber (audited).", {
                "200": _answer("The subscriber.", subscriber), **_errors(404)}, parameters=[_channel()],
                roles=SUBSCRIBER_ROLES),
            "delete": _op("eraseSubscriber", "subscribers", "Erase a subscriber; the consent ledger records it, and on "
                          "a reports or safety channel their reports are anonymised.", {
                              "204": {"description": "Erased."}, **_errors(404)}, parameters=[_channel()],
                          roles=SUBSCRIBER_ROLES),
        },
        "/api/v1/subscribers/{phone}/consents": {"get": _op(
            "listConsents", "subscribers", "The consent ledger of a citizen, oldest first (audited).", {
                "200": _answer("Grants and withdrawals.", _items("Consent")), **_errors(404)},
            parameters=[PHONE, _channel(None)], roles=SUBSCRIBER_ROLES)},
        "/api/v1/audit": {"get": _op("readAudit", "staff", "The latest staff accesses to personal data, newest first.", {
            "200": _answer("Audit entries.", _items("AuditEntry")), **_errors(422)}, parameters=[_limit(50)],
            roles=ADMIN_ROLES)},
    }


def _broadcast_paths() -> dict:
    broadcast = _ref("Broadcast")
    return {
        "/api/v1/broadcasts": {
            "post": _op("createBroadcast", "broadcasts", "Compose a broadcast: now, at send_at, or a draft. A normal "
                        "one due in quiet hours waits for their end (status scheduled, due_at).", {
                            "201": _answer("Created.", broadcast, _broadcast_links()), **_errors(400, 404, 422)},
                        body=_body(compose.NewBroadcast, {
                            "channel": DEMO_BROADCAST, "text": "Via Roma chiusa per lavori fino alle 18",
                            "audience": {"hamlets": ["pieve"], "topics": []}, "priority": "normal", "draft": True}),
                        roles=BROADCAST_ROLES),
            "get": _op("listBroadcasts", "broadcasts", "Broadcasts, newest first, with progress and counters.", {
                "200": _answer("A page of broadcasts.", _page("Broadcast")), **_errors(422)},
                parameters=[_limit(20), CURSOR], roles=BROADCAST_ROLES),
        },
        "/api/v1/broadcasts/{broadcast_id}": {"get": _op("readBroadcast", "broadcasts", "One broadcast.", {
            "200": _answer("The broadcast.", broadcast), **_errors(404)}, parameters=[BROADCAST_ID],
            roles=BROADCAST_ROLES)},
        "/api/v1/broadcasts/{broadcast_id}/preview": {"post": _op(
            "previewBroadcast", "broadcasts", "Who it reaches and WhatsApp's pre-flight: template, 24-hour window, "
            "messaging limit, duration.", {"200": _answer("The preview.", _ref("Preview")), **_errors(404)},
            parameters=[BROADCAST_ID], roles=BROADCAST_ROLES)},
        "/api/v1/broadcasts/{broadcast_id}/{action}": {"post": _op(
            "actOnBroadcast", "broadcasts", "schedule a draft; cancel; pause; resume a paused one.", {
                "200": _answer("The broadcast after the step.", broadcast), **_errors(404, 409)},
            parameters=[BROADCAST_ID, _param("action", "path", {"enum": list(broadcast_rules.ACTION_RESULT)},
                                             "The step.")], roles=BROADCAST_ROLES)},
    }


def _report_paths() -> dict:
    report = _ref("Report")
    kind = _param("kind", "query", {"enum": list(report_rules.KINDS)},
                  "report or safety (police only); when absent, every kind the roles reach.")
    dates = [_param("from", "query", TIME_PARAM, "Created at or after."),
             _param("to", "query", TIME_PARAM, "Created before.")]
    step = {"200": _answer("The report after the step.", report), **_errors(400, 404, 409, 422)}
    return {
        "/api/v1/reports": {
            "get": _op("listReports", "reports", "Reports (and, for the police, tips), newest first.", {
                "200": _answer("A page of reports.", _page("ReportSummary")), **_errors(422)}, parameters=[
                    kind, _param("status", "query", {"type": "string", "pattern": _statuses_pattern()},
                                 "One status, or several separated by commas.", example="new,triaged"),
                    _param("category", "query", {"type": "string"}, "A category id."),
                    _param("hamlet", "query", {"type": "string"}, "A hamlet id."),
                    _param("team", "query", {"type": "string"}, "A team id."),
                    _param("q", "query", {"type": "string"}, "Words in the text or address."),
                    *dates, _limit(20), CURSOR], roles=REPORT_ROLES),
            "post": _op("createReport", "reports", "A report taken at the desk, by phone or by email.", {
                "201": _answer("Created.", report, _report_links()), **_errors(400, 422)},
                body=_body(report_desk.DeskReport, {"source": "phone", "text": "Lampione spento in via Verdi",
                                                    "hamlet": "pieve", "contact": {"name": "Anna Rossi"}}),
                roles=REPORT_ROLES),
        },
        "/api/v1/reports/kpis": {"get": _op("reportKpis", "reports", "KPIs over a period (default: this year).", {
            "200": _answer("The KPIs.", _ref("Kpis")), **_errors(422)}, parameters=[kind, *dates],
            roles=REPORT_ROLES)},
        "/api/v1/reports/{report_id}": {"get": _op("readReport", "reports", "One report with its history (audited).", {
            "200": _answer("The report.", report), **_errors(404)}, parameters=[REPORT_ID], roles=REPORT_ROLES)},
        "/api/v1/reports/{report_id}/transitions": {"post": _op(
            "transitionReport", "reports", "A lifecycle step; public unless public is false.", step,
            parameters=[REPORT_ID], body=_body(report_desk.Transition, {"to": "triaged", "note": "Sopralluogo domani"}),
            roles=REPORT_ROLES)},
        "/api/v1/reports/{report_id}/notes": {"post": _op(
            "addReportNote", "reports", "A note; internal unless public is true.", step, parameters=[REPORT_ID],
            body=_body(report_desk.Note, {"note": "Chiamato il cittadino", "public": False}), roles=REPORT_ROLES)},
        "/api/v1/reports/{report_id}/photos/{photo_id}/publish": {"post": _op(
            "publishReportPhoto", "reports", "Show (published true) or stop showing a stored photo on the citizen "
            "portal: only its copy without metadata, never the original; a tip's photos never (409). Audited.", step,
            parameters=[REPORT_ID, _param("photo_id", "path", {"type": "string", "minLength": 1}, "The photo's id.")],
            body=_body(report_desk.PhotoPublication, {"published": True}), roles=REPORT_ROLES)},
        "/api/v1/reports/{report_id}/merge": {"post": _op(
            "mergeReport", "reports", "Mark the report a duplicate of another (into: its number or id).", step,
            parameters=[REPORT_ID], body=_body(report_desk.Merge, {"into": "2026/12"}), roles=REPORT_ROLES)},
    }


def _console_paths() -> dict:
    return {
        "/api/v1/tenant": {"get": _op("readTenant", "staff", "The caller's comune: hamlets (GeoJSON outlines), "
                                      "topics, report categories, teams and external bodies.", {
                                          "200": _answer("The comune's set-up.", _ref("Tenant")), **_errors(404)})},
        "/api/v1/broadcast-preview": {"post": _op(
            "previewNewBroadcast", "broadcasts", "The preview of a broadcast as composed so far, saving nothing: "
            "audience and WhatsApp's pre-flight (the console's live count).", {
                "200": _answer("The preview.", _ref("Preview")), **_errors(400, 404, 422)},
            body=_body(compose.NewBroadcast, {"channel": DEMO_BROADCAST, "text": "Via Roma chiusa",
                                                   "audience": {"hamlets": ["pieve"], "topics": []}}),
            roles=BROADCAST_ROLES)},
        "/api/v1/stats/subscribers": {"get": _op(
            "subscriberGrowth", "subscribers", "Active subscribers of a broadcast channel at the end of each recent "
            "ISO week (Europe/Rome), the current week last.", {
                "200": _answer("Subscribers over time.", _ref("SubscriberGrowth")), **_errors(404, 422)},
            parameters=[_channel(), _param("weeks", "query", {"type": "integer", "minimum": 1, "maximum": 104,
                                                              "default": 12}, "How many weeks.")],
            roles=BROADCAST_ROLES)},
    }


def _statuses_pattern() -> str:
    one = "|".join(report_rules.STATUSES)
    return f"^({one})(,({one}))*$"


def _public_paths() -> dict:
    return {"/public/v1/{tenant}/subscriptions": {"post": _op(
        "subscribe", "public", "The comune's web form: a confirmation goes to the phone on WhatsApp; only the "
        "citizen's reply activates the subscription. Limited per phone and per client.", {
            "202": _answer("Confirmation sent (the same answer when already subscribed).", _ref("Pending")),
            **_errors(400, 404, 413, 422, 429, 503)},
        parameters=[_param("tenant", "path", {"type": "string", "minLength": 1}, "The comune's id.", example="demo")],
        body=_body(subscription_form.FormRequest, {"phone": "+39 333 111 2222", "consent": True,
                                                   "hamlets": ["pieve"]}), public=True)}}


def _portal_paths() -> dict:
    tenant = _param("tenant", "path", {"type": "string", "minLength": 1}, "The comune's id.", example="demo")
    token = _param("token", "path", {"type": "string", "minLength": 1}, "The report's token, from its status link.")
    read = _errors(404, 429)
    return {
        "/public/v1/{tenant}/portal": {"get": _op(
            "portal", "public", "The portal's set-up: the comune, hamlets as GeoJSON outlines, categories, topics.",
            {"200": _answer("The set-up.", _ref("Portal")), **read}, parameters=[tenant], public=True)},
        "/public/v1/{tenant}/reports": {
            "get": _op("publicReports", "public", "The map: reports of the last 90 days (no tips, none rejected or "
                       "duplicate), newest first, without personal data; photos only as published by staff.",
                       {"200": _answer("The public reports.", _ref("PublicReports")), **read}, parameters=[tenant],
                       public=True),
            "post": _op("fileReport", "public", "The portal's report form: numbered and queued like WhatsApp reports. "
                        "Photos in base64 (at most 3, 1.25 MB each); limited per client and per phone; website must "
                        "stay empty.", {"201": _answer("Filed.", _ref("Filed")), **_errors(400, 404, 413, 422, 429)},
                        parameters=[tenant], body=_body(report_form.WebReport, {
                            "category": "strade", "description": "Buca profonda davanti alla scuola",
                            "position": {"latitude": 43.743, "longitude": 10.946}}), public=True)},
        "/public/v1/{tenant}/status/{token}": {"get": _op(
            "publicReportStatus", "public", "One report's status and public history, by the token of its link.",
            {"200": _answer("The report.", _ref("PublicStatus")), **read}, parameters=[tenant, token], public=True)},
    }


def _privacy_paths() -> dict:
    phone = _param("phone", "query", {"type": "string"}, "The person: an E.164 number in any usual writing, or "
                   "bsuid:<id>.", required=True, example="+393337654321")
    return {
        "/api/v1/privacy/erase": {"post": _op(
            "privacyErase", "privacy", "Erase one person on every channel of the comune (GDPR art. 17); the "
            "consent ledger keeps an erasure entry.", {"200": _answer("What was erased and kept.", _ref("Erasure")),
                                                        **_errors(400, 422)},
            body=_body(privacy.SubjectRequest, {"phone": "+39 333 765 4321"}), roles=ADMIN_ROLES)},
        "/api/v1/privacy/export": {"get": _op(
            "privacyExport", "privacy", "Everything held about one person in the comune, as JSON (GDPR art. 15).",
            {"200": _answer("The subject-access export.", _ref("SubjectExport")), **_errors(422)},
            parameters=[phone], roles=ADMIN_ROLES)},
    }


def _error_responses() -> dict:
    responses = {}
    for code, (name, description) in ERRORS.items():
        answer: dict[str, Any] = {"description": description, "content": _json(_ref("Error"))}
        if code == 401:
            answer["headers"] = {"WWW-Authenticate": {"schema": STR, "description": "Bearer realm=..."}}
        if code == 429:
            answer["headers"] = {
                "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."},
                "X-RateLimit-Limit": {"schema": {"type": "integer"}, "description": "Requests allowed in the window."},
                "X-RateLimit-Remaining": {"schema": {"type": "integer"}, "description": "Requests left: 0."},
                "X-RateLimit-Reset": {"schema": {"type": "integer"}, "description": "Seconds until the window ends."}}
        responses[name] = answer
    return responses


def document() -> dict:
    schemas = {
        "Error": ERROR, "Me": ME, "Channel": CHANNEL, "Subscriber": SUBSCRIBER, "Consent": CONSENT,
        "ImportResult": IMPORT_RESULT, "AuditEntry": AUDIT_ENTRY, "Broadcast": BROADCAST, "Preview": PREVIEW,
        "ReportSummary": REPORT_SUMMARY, "Report": REPORT, "Kpis": KPIS, "Pending": PENDING, "Erasure": ERASURE,
        "SubjectExport": SUBJECT_EXPORT, "Tenant": TENANT, "SubscriberGrowth": GROWTH, "Portal": PORTAL,
        "PublicReports": PUBLIC_REPORTS, "PublicStatus": PUBLIC_STATUS, "Filed": FILED, **_model_schemas(),
    }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Filo Diretto API", "version": API_VERSION,
                 "description": "The staff API of a comune's WhatsApp line (bearer JWT with the tenant and roles) "
                                "and the citizens' public endpoints. Errors: {\"error\": {\"code\", \"message\", "
                                "\"details\"?}}."},
        "security": [{"bearerAuth": []}],
        "tags": [{"name": name} for name in ("meta", "staff", "subscribers", "broadcasts", "reports", "privacy", "public")],
        "paths": {**_staff_paths(), **_broadcast_paths(), **_report_paths(), **_privacy_paths(), **_public_paths(),
                  **_portal_paths(), **_console_paths()},
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                               "description": "Cognito ID token: custom:tenant, cognito:groups."}},
            "schemas": schemas,
            "responses": _error_responses(),
        },
    }
