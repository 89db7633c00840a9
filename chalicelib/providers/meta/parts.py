"""A verified webhook body cut into parts that each fit one queue message (Meta posts up to 3 MB, SQS holds 1 MiB)."""
from __future__ import annotations

import json
import re
from typing import Any

from chalicelib.observability import count, logger
from chalicelib.providers.meta.envelope import READ_FIELDS, body_text

_SHELL = '{"object":"whatsapp_business_account","entry":[]}'  # a part without its entries
# What SQS refuses in a message body though JSON and UTF-8 allow it (the noncharacters U+FFFE and U+FFFF).
_NOT_FOR_SQS = re.compile("[\ufffe\uffff]")


def webhook_parts(raw_body: bytes, max_bytes: int) -> list[str]:
    """The body as webhook bodies of at most max_bytes each, in order: the body itself when it fits. Otherwise its
    changes, packed into as few parts as fit, and a change too big for one part goes as its messages and statuses
    (Meta never splits a change, but each item is read on its own). What the parser would skip anyway (an entry or a
    change that is no object, a field the parser does not read) is left out; an item too big for a part alone is dropped
    with an error and a metric: no WhatsApp message or status comes near 1 MB (a text holds 4,096 characters), and
    refusing the body would only make Meta retry the same one for 7 days. Call it on a body parse() read."""
    text = body_text(raw_body)
    if _NOT_FOR_SQS.search(text):
        text = json.dumps(json.loads(text))  # ASCII JSON: the same body with those characters escaped
    if len(text.encode("utf-8")) <= max_bytes:
        return [text]
    units = [unit for entry in json.loads(text)["entry"] for unit in _units(entry, max_bytes)]
    return _packed(units, max_bytes)


def _units(entry: Any, max_bytes: int) -> list[str]:
    """The entries, one change each (as JSON), that one part may carry: each readable change, or its items."""
    if not isinstance(entry, dict) or not isinstance(entry.get("changes"), list):
        return []
    entry_id = entry.get("id") if isinstance(entry.get("id"), str) else None
    units = []
    for change in entry["changes"]:
        if not isinstance(change, dict) or change.get("field") not in READ_FIELDS or not isinstance(change.get("value"), dict):
            continue
        whole = _entry(entry_id, change["value"], change["field"])
        if change["field"] != "messages":  # a template's news: a few hundred bytes, never split
            units += [whole] if _fits(whole, max_bytes) else []
            continue
        units += [whole] if _fits(whole, max_bytes) else _item_units(entry_id, change["value"], max_bytes)
    return units


def _item_units(entry_id: str | None, value: dict, max_bytes: int) -> list[str]:
    """A change too big for a part, as one change per message or status, each with the change's other fields."""
    base = {k: v for k, v in value.items() if k not in ("messages", "statuses", "contacts")}
    contacts = value.get("contacts") if isinstance(value.get("contacts"), list) else []
    units = []
    for name in ("messages", "statuses"):
        items = value.get(name) if isinstance(value.get(name), list) else []
        for item in items:
            who = {"contacts": _contacts_of(item, contacts)} if name == "messages" and contacts else {}
            unit = _entry(entry_id, {**base, **who, name: [item]})
            if _fits(unit, max_bytes):
                units.append(unit)
            else:
                logger.error("webhook item too large to queue: dropped", extra={"kind": name, "bytes": len(unit)})
                count("WebhookItemsDropped", kind=name)
    return units


def _contacts_of(message: Any, contacts: list) -> list:
    """The contacts a message's sender may be (inbound._contact_for chooses among them): those naming one of its ids,
    or the change's only contact."""
    if len(contacts) == 1:
        return contacts
    if not isinstance(message, dict):
        return []
    ids = (("wa_id", message.get("from")), ("user_id", message.get("from_user_id")))  # any JSON: no set of them
    return [c for c in contacts if isinstance(c, dict) and any(v is not None and c.get(k) == v for k, v in ids)]


def _entry(entry_id: str | None, value: dict, field: str = "messages") -> str:
    """An entry of one change, as ASCII JSON: every character escaped that SQS or UTF-8 could refuse (a lone surrogate
    the parser will skip, a noncharacter)."""
    entry = {"changes": [{"field": field, "value": value}]}
    return json.dumps({"id": entry_id, **entry} if entry_id else entry, separators=(",", ":"))


def _fits(unit: str, max_bytes: int, used: int = len(_SHELL)) -> bool:
    """Whether unit fits a part already this long (ASCII: characters are bytes; one more for the comma)."""
    return used + len(unit) + 1 <= max_bytes


def _packed(units: list[str], max_bytes: int) -> list[str]:
    """Units into as few parts as fit, in order."""
    parts: list[list[str]] = []
    used = 0
    for unit in units:
        if parts and _fits(unit, max_bytes, used):
            parts[-1].append(unit)
        else:
            parts.append([unit])
            used = len(_SHELL)
        used += len(unit) + 1
    return [_SHELL[:-2] + ",".join(part) + "]}" for part in parts]
