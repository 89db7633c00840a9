"""Every action the code writes to the audit log has its Italian label in the catalogue (what the Registro accessi
shows and its action picker offers): a new action without one would reach the DPO as a code."""
from __future__ import annotations

import ast
import json
from pathlib import Path

from chalicelib.services.admin import audit_log

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = json.loads((ROOT / "chalicelib" / "messages" / "it.json").read_text(encoding="utf-8"))
WRITERS = {"record", "record_change"}  # services.access: (staff, action, target, ...)


def _written() -> tuple[set[str], set[str]]:
    """(actions written as literals, prefixes of actions written as f-strings) by every call to the audit writers
    and every AuditEntry(action=...) in chalicelib."""
    exact, prefixes = set(), set()
    for path in (ROOT / "chalicelib").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            given = None
            if name in WRITERS and len(node.args) >= 2:
                given = node.args[1]
            elif name == "AuditEntry":
                given = next((k.value for k in node.keywords if k.arg == "action"), None)
            if isinstance(given, ast.Constant) and isinstance(given.value, str):
                exact.add(given.value)
            elif isinstance(given, ast.JoinedStr) and isinstance(given.values[0], ast.Constant):
                prefixes.add(given.values[0].value)
    return exact, prefixes


def test_every_action_the_code_writes_has_an_italian_label():
    exact, prefixes = _written()
    assert {"subscriber.read", "privacy.erase", "report.external_update"} <= exact  # the search finds them
    assert {"report.bulk.", "refused.", "conversation."} <= prefixes
    unlabelled = sorted(a for a in exact if f"audit.action.{a}" not in CATALOGUE)
    assert unlabelled == []
    for prefix in prefixes:  # each action under the prefix named, or at least its family
        assert any(k.startswith(f"audit.action.{prefix}") for k in CATALOGUE) or \
            f"audit.family.{prefix.split('.')[0]}" in CATALOGUE, prefix


def test_an_unknown_action_shows_its_family_or_its_code():
    assert audit_log.label("refused.403") == "Rifiutato: permesso negato"
    assert audit_log.label("settings.update") == "Impostazioni: settings.update"
    assert audit_log.label("qualcosa.nuovo") == "qualcosa.nuovo"
    assert {"value": "refused.", "label": "Rifiutato (tutte)"} in audit_log.actions()


def test_filters_keep_an_action_family_an_object_and_a_person():
    from datetime import UTC, datetime

    from chalicelib.store.audit import AuditEntry

    entry = AuditEntry("t", "sub-1", "subscriber.read", "100#+393337654321", datetime.now(UTC))
    keeps = lambda **f: audit_log.AuditFilter("a", "b", **f).keeps(entry)  # noqa: E731
    assert keeps(action="subscriber.") and keeps(action="subscriber.read") and not keeps(action="subscriber.re")
    assert keeps(objects=audit_log.object_forms("333 765 4321")) and not keeps(objects=audit_log.object_forms("333 765 4322"))
    assert keeps(actor="sub-1") and not keeps(actor="sub-2")


def test_a_family_filter_takes_its_own_one_action_too():
    """The picker's 'Impostazioni dei canali (tutte)' is the prefix channel_settings., and that family's one action
    is channel_settings itself (no sub-action): the filter must take it."""
    from datetime import UTC, datetime

    from chalicelib.services.admin.audit_log import AuditFilter
    from chalicelib.store.audit import AuditEntry

    def entry(action: str) -> AuditEntry:
        return AuditEntry("demo", "someone", action, "100000000000001", datetime(2026, 12, 6, tzinfo=UTC))

    family = AuditFilter(start="2026-12-01", end="2026-12-07", action="channel_settings.")
    assert family.keeps(entry("channel_settings")) and family.keeps(entry("channel_settings.read"))
    assert not family.keeps(entry("channel_settings_other")) and not family.keeps(entry("settings.update"))
    assert not AuditFilter(start="2026-12-01", end="2026-12-07", action="channel_settings").keeps(entry("channel_settings.read"))
