"""The audit log viewer: who did what to which object and when, filtered by person, action, object and dates, paged
newest first, exported as CSV or XLSX; what a DPO needs to answer "who looked at this citizen's data?".

The date range is the key condition on `at` (a Query of the comune's partition, never a scan); person, action and
object are tested on each entry read, and one call reads at most MAX_READ entries (then it answers what it found
with a cursor to go on). Reading the log is itself audited."""
from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from chalicelib.domain.access import Staff
from chalicelib.domain.hours import ROME
from chalicelib.domain.phones import InvalidPhone, parse_citizen_key
from chalicelib.domain.spreadsheets import MAX_ROWS, TooLarge
from chalicelib.messages import catalogue, text
from chalicelib.services import clock
from chalicelib.services.access import record
from chalicelib.services.exports import Table
from chalicelib.services.forms import FormRefused
from chalicelib.store import audit
from chalicelib.store import staff as staff_store
from chalicelib.store.audit import AuditEntry

MAX_READ = 2_000  # entries one page may read past the filters before it answers with what it has
MAX_EXPORT_READ = 50_000  # entries an export may read; past it, narrow the dates
MAX_OBJECT = 200
DEFAULT_DAYS = 400  # without dates: everything the log keeps (audit.RETENTION)
_ACTION = re.compile(r"^[a-z0-9_.]{1,80}$")
REFUSED = "refused."


@dataclass(frozen=True)
class AuditFilter:
    start: str  # ISO time in UTC, inclusive
    end: str  # ISO time in UTC, exclusive
    actor: str | None = None
    action: str | None = None  # exact, or a prefix ending in "."
    objects: tuple[str, ...] = ()  # the target contains any of these

    def keeps(self, entry: AuditEntry) -> bool:
        if self.actor and entry.actor != self.actor:
            return False
        if self.action and not self._action_matches(entry.action):
            return False
        return not self.objects or any(o.casefold() in entry.target.casefold() for o in self.objects)

    def _action_matches(self, action: str) -> bool:
        """A family ("report.") takes its own actions ("report.read") and the family's one action when it has no
        sub-actions ("channel_settings")."""
        if self.action.endswith("."):
            return action.startswith(self.action) or action == self.action[:-1]
        return action == self.action

    def described(self) -> str:
        """The filters as the audit entry of the read names them."""
        parts = [f"from:{self.start[:10]}", f"to:{self.end[:10]}"]
        parts += [f"{k}:{v}" for k, v in (("actor", self.actor), ("action", self.action)) if v]
        parts += [f"object:{self.objects[0]}"] if self.objects else []
        return " ".join(parts)[:500]


def _day(raw: str | None, field: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FormRefused(field, "Indicare una data come AAAA-MM-GG.") from None


def _rome_midnight(day: date) -> str:
    return datetime.combine(day, time(0), ROME).astimezone(UTC).isoformat()


def object_forms(raw: str | None) -> tuple[str, ...]:
    """What an object filter looks for in targets: a phone number in any usual writing becomes its stored key
    (and its URL-encoded form, as refused requests' paths carry it); anything else (a report id) as typed."""
    typed = (raw or "").strip()
    if not typed:
        return ()
    if len(typed) > MAX_OBJECT:
        raise FormRefused("object", f"Al massimo {MAX_OBJECT} caratteri.")
    try:
        key = parse_citizen_key(typed)
    except InvalidPhone:
        return (typed,)
    return (key, key.replace("+", "%2B")) if key.startswith("+") else (key,)


def parse(actor: str | None, action: str | None, obj: str | None, start: str | None, end: str | None) -> AuditFilter:
    """The viewer's filters from the query; FormRefused (422, naming the field) for a bad one. Dates are days in
    Europe/Rome, both included; without them, the whole log."""
    first, last = _day(start, "from"), _day(end, "to")
    today = clock.now().astimezone(ROME).date()
    last = last or today
    first = first or (last - timedelta(days=DEFAULT_DAYS))
    if first > last:
        raise FormRefused("from", "La data iniziale viene dopo quella finale.")
    if action and not _ACTION.match(action):
        raise FormRefused("action", "Azione non valida.")
    if actor is not None and not 0 < len(actor) <= 128:
        raise FormRefused("actor", "Persona non valida.")
    return AuditFilter(_rome_midnight(first), _rome_midnight(last + timedelta(days=1)), actor or None,
                       action or None, object_forms(obj))


def _cursor(at: str) -> str:
    return base64.urlsafe_b64encode(at.encode()).decode()


def _after(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        at = base64.urlsafe_b64decode(cursor.encode()).decode()
        datetime.fromisoformat(at.split("#")[0])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise FormRefused("cursor", "Il cursore non è valido.") from None
    return at


def _matching(tenant_id: str, wanted: AuditFilter, after: str | None, budget: int) -> Iterator[tuple[str, AuditEntry | None]]:
    """(at, entry or None when filtered out) for the entries read, newest first, at most budget of them."""
    for n, model in enumerate(audit.newest_first(tenant_id, wanted.start, wanted.end, after)):
        if n >= budget:
            return
        entry = audit.entry_of(model)
        yield model.at, entry if wanted.keeps(entry) else None


class Names:
    """Who an entry's actor is, for people: the name the entry kept, else the staff roster's, else "sconosciuto"
    (never the identity provider's id)."""

    def __init__(self, tenant_id: str):
        self.roster = {m.subject: m.name for m in staff_store.of_tenant(tenant_id)}

    def of(self, entry: AuditEntry) -> str:
        if entry.actor_name:
            return entry.actor_name
        if entry.actor in self.roster:
            return self.roster[entry.actor]
        if entry.actor.startswith("external:"):
            return text("audit.actor.external", name=entry.actor.removeprefix("external:"))
        if entry.actor in ("citizen", "system"):
            return text("audit.actor.system")
        return text("audit.actor.unknown")


def label(action: str) -> str:
    """An action in Italian: its own label, else its family's ("Segnalazioni: report.correct.category"), else the
    code as written."""
    try:
        return text(f"audit.action.{action}")
    except KeyError:
        pass
    try:
        return f"{_family(action.split('.')[0])}: {action}"
    except KeyError:
        return action


def _family(prefix: str) -> str:
    return text(f"audit.family.{prefix}")


def actions() -> list[dict]:
    """Every action the code writes, and each family as a prefix ("report."), with its label: the picker."""
    keys = list(catalogue("it"))
    exact = [a.removeprefix("audit.action.") for a in keys if a.startswith("audit.action.")]
    families: dict[str, str] = {}
    for prefix in (k.removeprefix("audit.family.") for k in keys if k.startswith("audit.family.")):
        families.setdefault(_family(prefix), prefix + ".")
    prefixes = [{"value": prefix, "label": f"{name} (tutte)"} for name, prefix in families.items()]
    return (sorted(prefixes, key=lambda a: a["label"])
            + sorted(({"value": a, "label": label(a)} for a in exact), key=lambda a: a["label"]))


def people(staff: Staff) -> list[dict]:
    """The people the person picker offers, by name: the staff roster (who signed in to work reports or tips) and
    whoever wrote one of the latest MAX_READ entries of the log under a name (the communications office, say)."""
    found = {m.subject: m.name for m in staff_store.of_tenant(staff.tenant_id)}
    today = clock.now()
    since = (today - timedelta(days=DEFAULT_DAYS)).isoformat()
    for _, entry in _matching(staff.tenant_id, AuditFilter(since, (today + timedelta(days=1)).isoformat()), None, MAX_READ):
        if entry.actor_name and entry.actor not in found and not entry.actor.startswith("external:"):
            found[entry.actor] = entry.actor_name
    return sorted(({"subject": s, "name": n} for s, n in found.items()), key=lambda p: p["name"].casefold())


def shown(entry: AuditEntry, names: Names) -> dict[str, Any]:
    return {"at": entry.at.isoformat(), "actor": entry.actor, "actor_name": names.of(entry), "action": entry.action,
            "action_label": label(entry.action), "refused": entry.action.startswith(REFUSED), "target": entry.target,
            "request_id": entry.request_id, "changed": entry.before is not None or entry.after is not None,
            "before": entry.before, "after": entry.after}


def page(staff: Staff, wanted: AuditFilter, limit: int, cursor: str | None,
         request_id: str | None = None) -> tuple[list[dict], str | None]:
    """A page of the entries the filters keep, newest first, and the cursor of the next (None at the end). The
    read is audited first (and so shows at the top of the next read)."""
    after = _after(cursor)
    record(staff, "audit.read", wanted.described(), request_id)
    names, items, last = Names(staff.tenant_id), [], None
    read = 0
    for at, entry in _matching(staff.tenant_id, wanted, after, MAX_READ):
        read, last = read + 1, at
        if entry is not None:
            items.append(shown(entry, names))
            if len(items) == limit:
                break
    more = read == MAX_READ or len(items) == limit
    return items, _cursor(last) if more and last else None


def table(staff: Staff, wanted: AuditFilter, request_id: str | None = None) -> Table:
    """Every entry the filters keep, newest first, as an export's table (audited first); TooLarge past MAX_ROWS
    entries kept or MAX_EXPORT_READ read (narrow the dates)."""
    record(staff, "export.audit", wanted.described(), request_id)
    names, rows, read = Names(staff.tenant_id), [], 0
    for _, entry in _matching(staff.tenant_id, wanted, None, MAX_EXPORT_READ + 1):
        read += 1
        if read > MAX_EXPORT_READ:
            raise TooLarge(f"more than {MAX_EXPORT_READ} entries to read")
        if entry is None:
            continue
        if len(rows) == MAX_ROWS:
            raise TooLarge(f"more than {MAX_ROWS} rows")
        e = shown(entry, names)
        rows.append([e["at"], e["actor_name"], e["action_label"], e["action"], e["target"],
                     _json(e["before"]), _json(e["after"]), e["request_id"]])
    header = [text(f"audit.export.column.{c}") for c in
              ("at", "actor", "action", "code", "target", "before", "after", "request")]
    return Table(text("audit.export.title"), header, rows)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)
