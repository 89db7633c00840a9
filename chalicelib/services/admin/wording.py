"""What is wrong with settings staff sent, in Italian for the console: pydantic's error types, the settings
model's own refusals and the outline checks, each worded from the catalogue (settings.problem.*, settings.outline.*)."""
from __future__ import annotations

import re
from typing import Any

from chalicelib import messages
from chalicelib.domain import whatsapp
from chalicelib.domain.outlines import OutlineProblem

# pydantic's error types -> settings.problem.<key>
TYPES = {
    "missing": "missing", "extra_forbidden": "unknown", "string_too_short": "too_short",
    "string_too_long": "too_long", "string_pattern_mismatch": "pattern", "greater_than_equal": "at_least",
    "greater_than": "more_than", "less_than_equal": "at_most", "less_than": "at_most", "too_long": "too_many",
    "too_short": "too_few", "int_type": "whole_number", "int_parsing": "whole_number", "int_from_float": "whole_number",
    "float_type": "number", "float_parsing": "number", "bool_type": "yes_no", "bool_parsing": "yes_no",
    "string_type": "text", "literal_error": "choice", "enum": "choice", "date_type": "date", "date_parsing": "date",
    "date_from_datetime_parsing": "date", "date_from_datetime_inexact": "date",
}
# the settings model's own refusals (domain/settings.py raises them in English) -> settings.problem.<key>
OWN = [
    (re.compile(r"^hours need a start and an end"), "hours_incomplete"),
    (re.compile(r"^Invalid isoformat string|^hour must be|^minute must be"), "time"),
    (re.compile(r"^unknown time zone"), "time_zone"),
    (re.compile(r"has \d+ characters and WhatsApp's list rows"), "list_title"),
    (re.compile(r"^targets of .*: a later step"), "targets_order"),
    (re.compile(r"^targets\.categories: no such category"), "targets_category"),
    (re.compile(r"is shown as a WhatsApp button or list row"), "short_text"),
    (re.compile(r"^month must be|^day is out of range"), "month_day"),
    # the agenda's catalogue (domain/agenda.py)
    (re.compile(r"^agenda\.services\..*: the duration must be a multiple"), "agenda_duration"),
    (re.compile(r"^agenda\.services\..*: no office"), "agenda_office"),
    (re.compile(r"^agenda\.services\..*: office .* has no counter"), "agenda_counter"),
    (re.compile(r"^agenda\.services\..*: at most \d+ slots"), "agenda_too_long"),
    (re.compile(r"^agenda: two (offices|services) with the same id|^two counters with the same id"),
     "agenda_duplicate"),
    (re.compile(r"^opening span|^hours\..*: the morning must end|^hours\..*: .* is not a whole number"),
     "agenda_hours"),
    (re.compile(r"^closure .* must be"), "agenda_closure"),
]
PATTERNS = {"email": "email", "url": "web_address", "on_call_phone": "phone", "patron_day": "month_day"}


def problem(field: str, key: str, **params: Any) -> dict[str, str]:
    """One refusal of a field: {field, message (for developers), text (Italian, for staff)}."""
    return {"field": field, "message": key, "text": _worded("problem", key, params)}


def _worded(family: str, code: str, params: dict[str, Any]) -> str:
    """The catalogue's settings.<family>.<code>, with the parameters a settings problem may carry."""
    get = params.get
    key = f"settings.{family}.{code}"
    return messages.text(key, most=get("most"), least=get("least"), count=get("count"), id=get("id"),
                         type=get("type"), latitude=get("latitude"), longitude=get("longitude"))


def outline_problem(field: str, error: OutlineProblem) -> dict[str, str]:
    return {"field": field, "message": str(error), "text": _worded("outline", error.code, error.params)}


def _field(prefix: str, loc: tuple) -> str:
    return ".".join(str(part) for part in (prefix, *loc) if part != "")


def from_pydantic(prefix: str, errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """pydantic's errors (settings.problems) for the console: the field's path under prefix, and Italian."""
    worded = []
    for error in errors:
        field = _field(prefix, tuple(error.get("loc", ())))
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, OutlineProblem):
            worded.append(outline_problem(field, cause))
            continue
        worded.append(problem(field, _key(error, field, str(cause or "")), **_params(error)))
    return worded


def _key(error: dict[str, Any], field: str, cause: str) -> str:
    kind = error.get("type", "")
    if kind == "value_error":
        return next((key for pattern, key in OWN if pattern.search(cause)), "invalid")
    if kind == "string_pattern_mismatch":
        last = field.rsplit(".", 1)[-1]
        return PATTERNS.get(last, "email" if "notify" in field else "pattern")
    return TYPES.get(kind, "invalid")


def _params(error: dict[str, Any]) -> dict[str, Any]:
    ctx = error.get("ctx") or {}
    params = {"least": ctx.get("min_length", ctx.get("ge", ctx.get("gt"))),
              "most": ctx.get("max_length", ctx.get("le", ctx.get("lt")))}
    cause = str(ctx.get("error", ""))
    limit = re.search(r"at most (\d+) characters|hold (\d+)", cause)
    if limit:
        params["most"] = int(limit.group(1) or limit.group(2))
    elif "list rows" in cause:
        params["most"] = whatsapp.LIST_ROW_TITLE_MAX
    return params
