"""HTTP entry points as Chalice blueprints: webhooks, staff API, public endpoints.

Cold start (issue 18). Every Lambda function of the app imports app.py, and with it every blueprint: whatever a
blueprint imports at module level, every function pays for on every cold start, even the SQS consumers that never
serve a route. So a blueprint imports at module level only what its decorators and constants need: chalice, this
package's light helpers (http, limits, auth, openapi) and pure domain modules that import nothing heavy (access,
numbers, spreadsheets, outlines...). Services, stores (PynamoDB, boto3 clients), providers and pydantic models are
named with `lazy()` and imported on the first call of a route that uses them:

    from chalicelib.api import lazy

    desk = lazy("chalicelib.services.reports.desk")  # nothing imported yet

    @bp.route("/api/v1/reports", methods=["POST"])
    @documented({201: "Report"}, body="chalicelib.services.reports.desk:DeskReport")  # named, not imported
    @staff_only(bp, Capability.REPORTS)
    def create_report(staff: Staff):
        return desk.create(staff, parse_body(bp.current_request, desk.DeskReport))  # imported here, once

An exception class of a service is caught as `except desk.NotAllowed:` (looked up only when something is raised).
app.py does the same for its queue consumers and schedules. tests/unit/test_cold_start.py fails when `import app`
loads any of a named set of heavy modules (PynamoDB's connection stack, PyJWT's crypto, the services packages...);
bench/coldstart.py measures the import against its floor and the webhook's first request."""
from __future__ import annotations

import importlib
import threading
from types import ModuleType
from typing import Any


class LazyModule:
    """A module imported on the first use of one of its attributes, then kept (Python's import lock makes the first
    use from two threads import it once)."""

    __slots__ = ("_lazy_name", "_lazy_module", "_lazy_lock")

    def __init__(self, name: str):
        object.__setattr__(self, "_lazy_name", name)
        object.__setattr__(self, "_lazy_module", None)
        object.__setattr__(self, "_lazy_lock", threading.Lock())

    def _load(self) -> ModuleType:
        module = self._lazy_module
        if module is None:
            with self._lazy_lock:
                module = self._lazy_module
                if module is None:
                    module = importlib.import_module(self._lazy_name)
                    object.__setattr__(self, "_lazy_module", module)
        return module

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._load(), attribute)

    def __repr__(self) -> str:
        state = "loaded" if self._lazy_module is not None else "not loaded yet"
        return f"<lazy module {self._lazy_name!r} ({state})>"


def lazy(name: str) -> Any:
    """The module of that dotted name, imported on first use (see this package's docstring)."""
    return LazyModule(name)


def lazy_attribute(reference: str) -> Any:
    """What a "package.module:Name" reference names (as @documented's body takes it), importing the module."""
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)
