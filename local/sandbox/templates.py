"""Message templates per WhatsApp Business Account: Meta's approval rules, the checks of a template send, its rendering."""
from __future__ import annotations

import hashlib
import re
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from .meta import GraphError, invalid, missing

# Meta's limits for a template (template creation, and the send once parameters are filled in)
NAME_PATTERN = re.compile(r"^[a-z0-9_]{1,512}$")
BODY_MAX = 1024
HEADER_TEXT_MAX = 60
FOOTER_MAX = 60
BUTTONS_MAX = 10
BUTTON_TEXT_MAX = 25
URL_MAX = 2000
PAYLOAD_MAX = 128  # a quick reply's payload: Meta documents none we could find, so the stricter choice
STATUSES = ("APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED")
CATEGORIES = ("UTILITY", "MARKETING", "AUTHENTICATION")
QUICK_REPLIES_MAX = 10
# why Meta's review rejects a template (rejected_reason, and the webhook's reason)
REJECTION_REASONS = ("ABUSIVE_CONTENT", "INVALID_FORMAT", "PROMOTIONAL", "TAG_CONTENT_MISMATCH", "SCAM",
                     "INCORRECT_CATEGORY")
# Meta's error_subcode for a template creation it refuses (code 100, "Invalid parameter")
SUBCODE_TOO_LONG = 2388040  # a field over its character limit
SUBCODE_HEADER_FORMAT = 2388047  # the header's format
SUBCODE_MISSING = 2388043  # a required field, or an example per parameter, missing
SUBCODE_DUPLICATE = 2388024  # a template of that name already exists in that language
SUBCODE_EDGES = 2388299  # a body that starts or ends with a parameter
MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")
BUTTON_TYPES = ("QUICK_REPLY", "URL", "PHONE_NUMBER")
PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
PLACEHOLDER_AT_END = re.compile(r"\{\{\s*\d+\s*\}\}$")
# error 132018: "Param text cannot have new-line/tab characters or more than 4 consecutive spaces"
BAD_PARAMETER = re.compile(r"[\n\r\t]| {5,}")
PARAMETER_DETAILS = "Param text cannot have new-line/tab characters or more than 4 consecutive spaces"


class TemplateError(ValueError):
    """A template definition Meta would not approve (HTTP 422 on the test API; on Graph's message_templates, code
    100 with Meta's error_subcode)."""

    def __init__(self, message: str, subcode: int | None = None):
        super().__init__(message)
        self.subcode = subcode

    def graph_error(self) -> GraphError:
        return GraphError(100, str(self), subcode=self.subcode)


@dataclass(frozen=True)
class Button:
    type: str  # QUICK_REPLY, URL or PHONE_NUMBER
    text: str
    url: str = ""

    @property
    def parameters(self) -> int:
        """A URL button with {{1}} at the end of its address takes one text parameter."""
        return len(PLACEHOLDER.findall(self.url))


@dataclass(frozen=True)
class Template:
    """One approved (or not) template of a business account, in one language."""

    name: str
    language: str
    status: str
    category: str
    body: str
    header_format: str | None = None  # TEXT, IMAGE, VIDEO, DOCUMENT, or none
    header_text: str = ""
    footer: str = ""
    buttons: tuple[Button, ...] = ()
    id: str = ""  # Meta's id of the template
    rejected_reason: str = "NONE"
    previous_category: str = ""  # set when Meta re-categorised it

    @property
    def body_parameters(self) -> int:
        return len(PLACEHOLDER.findall(self.body))

    @property
    def header_parameters(self) -> int:
        if self.header_format == "TEXT":
            return len(PLACEHOLDER.findall(self.header_text))
        return 1 if self.header_format in MEDIA_FORMATS else 0

    def as_json(self) -> dict[str, Any]:
        """The template as Meta's GET /{waba_id}/message_templates describes it."""
        components: list[dict[str, Any]] = []
        if self.header_format:
            header = {"type": "HEADER", "format": self.header_format}
            components.append({**header, "text": self.header_text} if self.header_format == "TEXT" else header)
        components.append({"type": "BODY", "text": self.body})
        if self.footer:
            components.append({"type": "FOOTER", "text": self.footer})
        if self.buttons:
            components.append({"type": "BUTTONS", "buttons": [
                {"type": b.type, "text": b.text, **({"url": b.url} if b.url else {})} for b in self.buttons]})
        described = {"id": self.id, "name": self.name, "language": self.language, "status": self.status,
                     "category": self.category, "components": components, "rejected_reason": self.rejected_reason,
                     "quality_score": {"score": "UNKNOWN"}, "parameter_format": "POSITIONAL"}
        if self.previous_category:
            described["previous_category"] = self.previous_category
        return described


# ---- definitions, as Meta's template API takes them -----------------------------------------------------

def parse_template(definition: Any) -> Template:
    """A template from Meta's JSON shape; TemplateError naming what Meta's review would refuse."""
    if not isinstance(definition, dict):
        raise TemplateError(f"a template is an object with name, language and components: {definition!r}")
    name = _string(definition, "name", "template")
    if not NAME_PATTERN.match(name):
        raise TemplateError(f"template name {name!r}: lowercase letters, digits and _ only, at most 512", SUBCODE_MISSING)
    where = f"template {name}"
    language = _string(definition, "language", where)
    status = str(definition.get("status") or "APPROVED").upper()
    if status not in STATUSES:
        raise TemplateError(f"{where}: status must be one of {', '.join(STATUSES)}, got {status!r}")
    components = definition.get("components")
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise TemplateError(f"{where}: components must be a list of objects")
    by_type = _components_by_type(components, where)
    if "BODY" not in by_type:
        raise TemplateError(f"{where}: a template needs a BODY component", SUBCODE_MISSING)
    body = _text_with_placeholders(by_type["BODY"], where + " BODY", BODY_MAX, edges_checked=True)
    header_format, header_text = _header(by_type.get("HEADER"), where)
    footer = _footer(by_type.get("FOOTER"), where)
    buttons = _buttons(by_type.get("BUTTONS"), where)
    return Template(name=name, language=language, status=status, category=str(definition.get("category") or "UTILITY"),
                    body=body, header_format=header_format, header_text=header_text, footer=footer,
                    buttons=buttons, id=str(definition.get("id") or ""),
                    # a template handed back at a restart keeps its review's outcome (make dev: kept_templates)
                    rejected_reason=str(definition.get("rejected_reason") or "NONE"),
                    previous_category=str(definition.get("previous_category") or ""))


def _components_by_type(components: list[dict[str, Any]], where: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for component in components:
        kind = str(component.get("type") or "").upper()
        if kind not in ("HEADER", "BODY", "FOOTER", "BUTTONS"):
            raise TemplateError(f"{where}: unknown component type {component.get('type')!r}")
        if kind in found:
            raise TemplateError(f"{where}: more than one {kind} component")
        found[kind] = component
    return found


def _string(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise TemplateError(f"{where}: {key} must be a non-empty string")
    return value


def _text_with_placeholders(component: dict[str, Any], where: str, limit: int, edges_checked: bool) -> str:
    """A text with placeholders {{1}}..{{n}}, each once, none skipped; Meta refuses a body that starts or ends
    with a placeholder."""
    text = _string(component, "text", where)
    if len(text) > limit:
        raise TemplateError(f"{where}: {len(text)} characters, at most {limit}", SUBCODE_TOO_LONG)
    numbers = [int(n) for n in PLACEHOLDER.findall(text)]
    if sorted(set(numbers)) != list(range(1, len(set(numbers)) + 1)):
        raise TemplateError(f"{where}: placeholders must be {{{{1}}}}, {{{{2}}}}, ... without gaps, got {numbers}")
    if len(numbers) != len(set(numbers)):
        raise TemplateError(f"{where}: each placeholder may appear once")
    stripped = text.strip()
    if edges_checked and (PLACEHOLDER.match(stripped) or PLACEHOLDER_AT_END.search(stripped)):
        raise TemplateError(f"{where}: the text may not start or end with a placeholder", SUBCODE_EDGES)
    return text


def _header(component: dict[str, Any] | None, where: str) -> tuple[str | None, str]:
    if component is None:
        return None, ""
    header_format = str(component.get("format") or "").upper()
    if header_format == "TEXT":
        text = _text_with_placeholders(component, where + " HEADER", HEADER_TEXT_MAX, edges_checked=False)
        if len(PLACEHOLDER.findall(text)) > 1:
            raise TemplateError(f"{where} HEADER: a text header takes at most one placeholder")
        return "TEXT", text
    if header_format in MEDIA_FORMATS:
        return header_format, ""
    raise TemplateError(f"{where} HEADER: format must be TEXT, {', '.join(MEDIA_FORMATS)}", SUBCODE_HEADER_FORMAT)


def _footer(component: dict[str, Any] | None, where: str) -> str:
    if component is None:
        return ""
    text = _string(component, "text", where + " FOOTER")
    if len(text) > FOOTER_MAX or PLACEHOLDER.search(text):
        raise TemplateError(f"{where} FOOTER: a fixed text of at most {FOOTER_MAX} characters", SUBCODE_TOO_LONG)
    return text


def _buttons(component: dict[str, Any] | None, where: str) -> tuple[Button, ...]:
    if component is None:
        return ()
    buttons = component.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= BUTTONS_MAX:
        raise TemplateError(f"{where} BUTTONS: a list of 1 to {BUTTONS_MAX} buttons")
    made = []
    for button in buttons:
        kind = str((button or {}).get("type") or "").upper() if isinstance(button, dict) else ""
        if kind not in BUTTON_TYPES:
            raise TemplateError(f"{where} BUTTONS: each button's type is one of {', '.join(BUTTON_TYPES)}")
        text = _string(button, "text", where + " button")
        if len(text) > BUTTON_TEXT_MAX:
            raise TemplateError(f"{where} button {text!r}: {len(text)} characters, at most {BUTTON_TEXT_MAX}",
                                SUBCODE_TOO_LONG)
        url = str(button.get("url") or "") if kind == "URL" else ""
        placeholders = PLACEHOLDER.findall(url)
        if kind == "URL" and (not url.startswith(("https://", "http://")) or len(url) > URL_MAX
                              or len(placeholders) > 1 or (placeholders and not PLACEHOLDER_AT_END.search(url))):
            raise TemplateError(f"{where} button {text!r}: url must be http(s), with at most {{{{1}}}} at its end")
        made.append(Button(kind, text, url))
    if len({b.text for b in made}) != len(made):
        raise TemplateError(f"{where} BUTTONS: button texts must be unique")
    return tuple(made)


# ---- a creation, as POST /{waba_id}/message_templates takes it ------------------------------------------

def check_submission(definition: Any) -> Template:
    """A new template as Meta's creation endpoint checks it, on top of what its review refuses (parse_template): a
    category, positional parameters each with an example, at most 10 quick replies. PENDING until reviewed."""
    if not isinstance(definition, dict):
        raise TemplateError("the body is an object with name, language, category and components", SUBCODE_MISSING)
    category = definition.get("category")
    if category not in CATEGORIES:
        raise TemplateError(f"category must be one of {', '.join(CATEGORIES)}, got {category!r}", SUBCODE_MISSING)
    if str(definition.get("parameter_format") or "POSITIONAL").upper() != "POSITIONAL":
        raise TemplateError("parameter_format: this account takes POSITIONAL parameters ({{1}}, {{2}}...)")
    template = parse_template({**definition, "status": "PENDING"})
    components = {str(c.get("type") or "").upper(): c for c in definition["components"]}
    _check_examples(components["BODY"], "body_text", template.body_parameters, nested=True)
    if template.header_format == "TEXT":
        _check_examples(components["HEADER"], "header_text", template.header_parameters, nested=False)
    if sum(b.type == "QUICK_REPLY" for b in template.buttons) > QUICK_REPLIES_MAX:
        raise TemplateError(f"BUTTONS: at most {QUICK_REPLIES_MAX} quick replies", SUBCODE_TOO_LONG)
    return template


def _check_examples(component: dict[str, Any], key: str, parameters: int, nested: bool) -> None:
    """Meta asks an example value for each parameter: example.body_text [[...]] or example.header_text [...]."""
    if not parameters:
        return
    examples = (component.get("example") or {}).get(key) if isinstance(component.get("example"), dict) else None
    values = examples[0] if nested and isinstance(examples, list) and examples else examples
    if not isinstance(values, list) or len(values) != parameters or not all(isinstance(v, str) and v for v in values):
        shape = "[[...]]" if nested else "[...]"
        raise TemplateError(f"{component.get('type')}: example.{key} must give {shape} one example per parameter "
                            f"({parameters})", SUBCODE_MISSING)


# ---- the registry -----------------------------------------------------------------------------------------

class Templates:
    """The templates of each WhatsApp Business Account, by (name, language), in the order registered."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_waba: dict[str, dict[tuple[str, str], Template]] = {}

    def register(self, waba_id: str, definitions: Iterable[Any]) -> list[Template]:
        """Add or replace templates of an account; TemplateError (and nothing registered) if one is bad."""
        parsed = [parse_template(d) for d in definitions]
        with self._lock:
            held = self._by_waba.setdefault(waba_id, {})
            parsed = [replace(t, id=t.id or (held.get((t.name, t.language)) or t).id
                              or stable_template_id(waba_id, t.name, t.language)) for t in parsed]
            for template in parsed:
                held[(template.name, template.language)] = template
        return parsed

    def create(self, waba_id: str, definition: Any) -> Template:
        """A new template submitted for review (PENDING); TemplateError as Meta refuses it, a name taken in that
        language included."""
        template = check_submission(definition)
        with self._lock:
            held = self._by_waba.setdefault(waba_id, {})
            if (template.name, template.language) in held:
                raise TemplateError(f"a template named {template.name} already exists in {template.language}",
                                    SUBCODE_DUPLICATE)
            template = replace(template, id=new_template_id())
            held[(template.name, template.language)] = template
        return template

    def by_id(self, waba_id: str, template_id: str) -> Template | None:
        with self._lock:
            return next((t for t in self._by_waba.get(waba_id, {}).values() if t.id == template_id), None)

    def review(self, waba_id: str, template: Template, action: str, reason: str = "",
               category: str = "") -> tuple[Template, str, dict[str, Any]]:
        """Meta's review of a template: approve, reject (with a reason), recategorise (to another category), pause or
        disable. The template as it now is, and the webhook Meta posts about it (its field and value)."""
        if action == "recategorise":
            if category not in CATEGORIES or category == template.category:
                raise TemplateError(f"category: one of {', '.join(CATEGORIES)} other than {template.category}")
            changed = replace(template, category=category, previous_category=template.category)
            value = {**_identity(changed), "previous_category": template.category, "new_category": category}
            field = "template_category_update"
        else:
            events = {"approve": "APPROVED", "reject": "REJECTED", "pause": "PAUSED", "disable": "DISABLED"}
            if action not in events:
                raise TemplateError("action: approve, reject, recategorise, pause or disable")
            if action == "reject" and reason not in REJECTION_REASONS:
                raise TemplateError(f"reason: one of {', '.join(REJECTION_REASONS)}")
            rejected = reason if action == "reject" else "NONE"
            changed = replace(template, status=events[action], rejected_reason=rejected)
            value = {"event": events[action], **_identity(changed), "reason": rejected}
            field = "message_template_status_update"
        with self._lock:
            self._by_waba.setdefault(waba_id, {})[(changed.name, changed.language)] = changed
        return changed, field, value

    def listing(self, waba_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [t.as_json() for t in self._by_waba.get(waba_id, {}).values()]

    def find(self, waba_id: str, name: str, language: str) -> Template | None:
        with self._lock:
            return self._by_waba.get(waba_id, {}).get((name, language))

    def require(self, waba_id: str, name: str, language: str) -> Template:
        """The approved template, or Meta's error: 132001 unknown (or not approved), 132015 paused, 132016 disabled."""
        template = self.find(waba_id, name, language)
        if template is None or template.status in ("PENDING", "REJECTED"):
            raise GraphError(132001, f"template name ({name}) does not exist in {language}")
        if template.status == "PAUSED":
            raise GraphError(132015, f"Template {name} is paused due to low quality")
        if template.status == "DISABLED":
            raise GraphError(132016, f"Template {name} is disabled due to low quality")
        return template


def new_template_id() -> str:
    return str(secrets.randbelow(9 * 10**14) + 10**14)


def stable_template_id(waba_id: str, name: str, language: str) -> str:
    """A registered template's id, the same at every start (the app keeps the ids it was told)."""
    digest = hashlib.sha256(f"{waba_id}/{name}/{language}".encode()).hexdigest()
    return "2" + str(int(digest, 16))[:14]


def _identity(template: Template) -> dict[str, Any]:
    """How Meta's template webhooks name a template (its id a number)."""
    return {"message_template_id": int(template.id), "message_template_name": template.name,
            "message_template_language": template.language}


# ---- a template send -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Filled:
    """A template with the parameters of one send: what the citizen's phone shows."""

    template: Template
    header: str  # the header text filled in, or "[image <link>]" for a media header
    body: str
    payloads: dict[int, str]  # quick-reply button index -> the payload the send set


def check_send(template: Template, components: list[dict[str, Any]]) -> Filled:
    """Raise Meta's GraphError for a send's components that do not fit the template; return it filled in."""
    given: dict[str, dict[str, Any]] = {}
    buttons: dict[int, dict[str, Any]] = {}
    for component in components:
        kind = str(component.get("type") or "").lower()
        if kind == "button":
            index = _button_index(component, template)
            buttons[index] = component
        elif kind in ("header", "body"):
            if kind in given:
                raise invalid(f"template.components has more than one {kind}")
            given[kind] = component
        else:
            raise invalid(f"template.components: unknown component type {component.get('type')!r}")
    header = _fill_header(template, given.get("header"))
    body = _fill(template.body, _text_parameters(given.get("body"), "body", template.body_parameters))
    if len(body) > BODY_MAX:
        raise GraphError(132005, f"body: {len(body)} characters once the parameters are filled in, at most {BODY_MAX}")
    payloads = {}
    for index, button in enumerate(template.buttons):
        payloads.update(_check_button(index, button, buttons.get(index)))
    return Filled(template, header, body, payloads)


def _button_index(component: dict[str, Any], template: Template) -> int:
    raw = component.get("index")
    index = int(raw) if isinstance(raw, (int, str)) and str(raw).isdigit() else -1
    sub_type = str(component.get("sub_type") or "").upper()
    if not 0 <= index < len(template.buttons) or template.buttons[index].type != sub_type:
        raise invalid(f"Button at index {raw} of type {component.get('sub_type')} does not exist in template "
                      f"{template.name}")
    return index


def _parameters(component: dict[str, Any] | None, where: str) -> list[Any]:
    """A component's parameters: a list (none when the send left the component out)."""
    parameters = (component or {}).get("parameters") or []
    if not isinstance(parameters, list):
        raise invalid(f"{where}: parameters must be a list")
    return parameters


def _check_button(index: int, button: Button, component: dict[str, Any] | None) -> dict[int, str]:
    parameters = _parameters(component, f"button {index}")
    if button.type == "URL":
        texts = _text_parameters(component, f"button {index}", button.parameters)
        if texts and len(_fill(button.url, texts)) > URL_MAX:
            raise invalid(f"button {index}: the url is longer than {URL_MAX} characters once filled in")
        return {}
    if button.type != "QUICK_REPLY" or component is None:
        return {}
    if len(parameters) != 1 or not isinstance(parameters[0], dict) or parameters[0].get("type") != "payload":
        raise invalid(f"button {index}: a quick reply takes one parameter of type payload")
    payload = parameters[0].get("payload")
    if not isinstance(payload, str) or not payload:
        raise missing(f"button {index} payload")
    if len(payload) > PAYLOAD_MAX:
        raise invalid(f"button {index}: payload is {len(payload)} characters, at most {PAYLOAD_MAX}")
    return {index: payload}


def _fill_header(template: Template, component: dict[str, Any] | None) -> str:
    if template.header_format in MEDIA_FORMATS:
        parameters = _parameters(component, "header")
        kind = template.header_format.lower()
        if len(parameters) != 1 or not isinstance(parameters[0], dict) or parameters[0].get("type") != kind:
            raise _count_mismatch("header", len(parameters), 1)
        media = parameters[0].get(kind)
        if not isinstance(media, dict) or not (media.get("link") or media.get("id")):
            raise missing(f"header {kind}.link or {kind}.id")
        return f"[{kind} {media.get('link') or 'media ' + str(media.get('id'))}]"
    texts = _text_parameters(component, "header", template.header_parameters)
    header = _fill(template.header_text, texts)
    if len(header) > HEADER_TEXT_MAX:
        raise GraphError(132005, f"header: {len(header)} characters once filled in, at most {HEADER_TEXT_MAX}")
    return header


def _text_parameters(component: dict[str, Any] | None, where: str, expected: int) -> list[str]:
    """The text parameters of a component, checked: their number (132000), each one's text (131008, 132018)."""
    parameters = _parameters(component, where)
    if len(parameters) != expected:
        raise _count_mismatch(where, len(parameters), expected)
    texts = []
    for parameter in parameters:
        if not isinstance(parameter, dict):
            raise invalid(f"{where}: each parameter must be an object")
        kind = parameter.get("type")
        if kind in ("currency", "date_time"):
            texts.append(str((parameter.get(kind) or {}).get("fallback_value") or ""))
            continue
        if kind != "text":
            raise invalid(f"{where}: parameter of type {kind!r} where the template takes text")
        text = parameter.get("text")
        if not isinstance(text, str) or not text:
            raise missing(f"{where} parameter text (Parameter of type text is missing text value)")
        if BAD_PARAMETER.search(text):
            raise GraphError(132018, PARAMETER_DETAILS)
        texts.append(text)
    return texts


def _count_mismatch(where: str, given: int, expected: int) -> GraphError:
    return GraphError(132000, f"{where}: number of localizable_params ({given}) does not match the expected "
                              f"number of params ({expected})")


def _fill(text: str, values: list[str]) -> str:
    return PLACEHOLDER.sub(lambda m: values[int(m.group(1)) - 1], text)


def render(filled: Filled) -> str:
    """The template as the phone shows it: header, body, footer, and the buttons that are not quick replies."""
    links = " ".join(f"[{b.text}]" for b in filled.template.buttons if b.type != "QUICK_REPLY")
    lines = [filled.header, filled.body, filled.template.footer, links]
    return "\n".join(line for line in lines if line)


def quick_replies(filled: Filled) -> list[dict[str, str]]:
    """The taps a citizen can make: each quick reply's title, and its payload (Meta sends the text when none)."""
    return [{"kind": "quick_reply", "id": filled.payloads.get(i, b.text), "title": b.text}
            for i, b in enumerate(filled.template.buttons) if b.type == "QUICK_REPLY"]
