"""The Italian catalogue against the code that fills it: a placeholder no caller supplies would reach a citizen as
a blank (a misspelt `{numero}` in it.json, say), so every placeholder of every text must be supplied by every
call that can pick that text."""
from __future__ import annotations

import ast
import json
import string
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

from chalicelib import messages

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = json.loads((ROOT / "chalicelib" / "messages" / "it.json").read_text(encoding="utf-8"))
CHANNEL_CONTEXT = {"comune", "service", "privacy_url"}  # what services.replies.channel_text gives every text
# calls that pick a text: function name -> (index of the key argument, whether the channel context is given)
PICKERS = {"channel_text": (2, True), "say": (0, True), "text": (0, True)}
DIRECT = ("text", 0)  # messages.text(key, language, overrides, **params): no context


def placeholders(template: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


def _key_patterns(node: ast.expr, function: ast.AST) -> list[str]:
    """The catalogue keys an argument can be, as patterns ('*' for what an f-string fills in): a literal, an
    f-string, or a local name assigned such values in the same function."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):  # f"status.{status}" -> "status.*"
        return ["".join(v.value if isinstance(v, ast.Constant) else "*" for v in node.values)]
    if isinstance(node, ast.IfExp):
        return _key_patterns(node.body, function) + _key_patterns(node.orelse, function)
    if isinstance(node, ast.Name):
        found = []
        for inner in ast.walk(function):
            if isinstance(inner, ast.Assign) and any(isinstance(t, ast.Name) and t.id == node.id for t in inner.targets):
                found += _key_patterns(inner.value, function)
        return found
    return []


def _call_sites():
    """(key pattern, keyword names supplied, file:line) for every call that picks a catalogue text."""
    for path in sorted((ROOT / "chalicelib").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
            for call in [n for n in ast.walk(function) if isinstance(n, ast.Call)]:
                func = call.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                direct = isinstance(func, ast.Attribute) and getattr(func.value, "id", None) == "messages"
                if direct:
                    index, context = DIRECT[1], False
                elif name in PICKERS:
                    index, context = PICKERS[name]
                else:
                    continue
                if len(call.args) <= index:
                    continue
                supplied = {k.arg for k in call.keywords if k.arg} | (CHANNEL_CONTEXT if context else set())
                if any(k.arg is None for k in call.keywords):  # **params passed on: checked at the outer call
                    continue
                for pattern in _key_patterns(call.args[index], function):
                    yield pattern, supplied, f"{path.relative_to(ROOT)}:{call.lineno}"


def _keys(pattern: str) -> list[str]:
    return [k for k in CATALOGUE if fnmatchcase(k, pattern)]


SITES = list(_call_sites())


def test_every_text_is_picked_by_some_call():
    reached = {key for pattern, _, _ in SITES for key in _keys(pattern)}
    assert sorted(set(CATALOGUE) - reached) == []


@pytest.mark.parametrize("pattern, supplied, where", SITES, ids=[s[2] for s in SITES])
def test_every_placeholder_is_supplied(pattern, supplied, where):
    keys = _keys(pattern)
    if not keys:
        pytest.skip(f"{pattern!r} is not a catalogue key (another text() method)")
    missing = {key: sorted(placeholders(CATALOGUE[key]) - supplied) for key in keys}
    assert {key: names for key, names in missing.items() if names} == {}


def test_a_misspelt_placeholder_would_be_caught():
    """The check itself: a text naming {numero} where callers give number is reported."""
    assert placeholders("Segnalazione n. {numero} ricevuta") - {"number"} == {"numero"}
    assert placeholders(CATALOGUE["report.status_line"]) == {"category", "date", "number", "status"}


def test_a_missing_placeholder_at_run_time_is_blank_not_an_error():
    assert messages.text("report.added_text") == messages.text("report.added_text", number="")
