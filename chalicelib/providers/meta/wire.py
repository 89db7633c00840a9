"""Readers for Meta's untrusted JSON: a value of the expected type, or None."""
from __future__ import annotations

import json
import math
from typing import Any


def str_(value: Any) -> str | None:
    """The value when it is a string that can be stored as UTF-8 (no lone surrogates)."""
    if not isinstance(value, str):
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value


def dict_(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def list_(value: Any) -> list:
    return value if isinstance(value, list) else []


def int_(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def json_object(raw: bytes) -> dict:
    try:
        payload = json.loads(raw)
    except (ValueError, TypeError, RecursionError):
        return {}
    return dict_(payload)
