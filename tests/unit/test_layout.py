"""The house rules a newcomer relies on: dependencies point inward, and each rule has one home."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from chalicelib.domain.access import ROLES
from chalicelib.domain.phones import USER_ID_PREFIX

ROOT = Path(__file__).resolve().parents[2]
CHALICELIB = ROOT / "chalicelib"
PYTHON_TREES = ("chalicelib", "infra", "local", "bench", "app.py")


def _sources(*trees: str) -> list[Path]:
    files = []
    for tree in trees:
        path = ROOT / tree
        files += [path] if path.is_file() else sorted(p for p in path.rglob("*.py") if "cdk.out" not in p.parts)
    return files


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def _strings(path: Path):
    """(string, is a docstring) for every string literal of a file, f-strings' leading text included."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value, id(node) in docstrings
        elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
            yield node.values[0].value, False


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_only_the_entry_points_import_chalice():
    outside = [_relative(p) for p in _sources("chalicelib")
               if "chalicelib/api/" not in _relative(p) and any(m.split(".")[0] == "chalice" for m in _imports(p))]
    assert outside == []


def test_the_domain_imports_nothing_of_ours():
    leaks = {_relative(p): sorted(m for m in _imports(p) if m.startswith("chalicelib") and
                                  not m.startswith("chalicelib.domain"))
             for p in (CHALICELIB / "domain").glob("*.py")}
    assert {path: modules for path, modules in leaks.items() if modules} == {}


def test_only_the_store_knows_dynamodb():
    outside = [_relative(p) for p in _sources("chalicelib")
               if "chalicelib/store/" not in _relative(p) and any(m.startswith("pynamodb") for m in _imports(p))]
    assert outside == []


def test_services_import_no_entry_point():
    upward = {_relative(p): sorted(m for m in _imports(p) if m.startswith("chalicelib.api"))
              for p in (CHALICELIB / "services").rglob("*.py")}
    assert {path: modules for path, modules in upward.items() if modules} == {}


@pytest.mark.parametrize("role", [role.value for role in ROLES])
def test_a_role_is_named_only_in_domain_access(role):
    """Roles and who may do what live in chalicelib/domain/access.py; every other list derives from it."""
    home = CHALICELIB / "domain" / "access.py"
    named = [_relative(p) for p in _sources(*PYTHON_TREES) if p != home
             and any(text == role for text, docstring in _strings(p) if not docstring)]
    assert named == []


def test_the_console_reads_what_a_role_may_open_from_the_api():
    """The console shows the sections of `can` from /api/v1/me, and names no role in its own rules."""
    sources = [p for p in (ROOT / "web").rglob("*.js") if "node_modules" not in p.parts and "dist" not in p.parts]
    quoted = [f'"{role.value}"' for role in ROLES] + [f"'{role.value}'" for role in ROLES]
    naming = [_relative(p) for p in sources if any(q in p.read_text() for q in quoted)]
    assert naming == []


def test_the_citizen_key_rule_has_one_home():
    """'E.164, else bsuid:<id>' is built and taken apart only in chalicelib/domain/phones.py."""
    home = CHALICELIB / "domain" / "phones.py"
    rule = [_relative(p) for p in _sources(*PYTHON_TREES) if p != home
            and any(text.startswith(USER_ID_PREFIX) and len(text) < 12 for text, docstring in _strings(p) if not docstring)]
    assert rule == []
