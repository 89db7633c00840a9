"""Whole numbers as URLs, forms and citizens write them: ASCII digits only (str.isdigit and int() take more)."""
from __future__ import annotations

import re

# [0-9], not \d or str.isdigit: those take superscripts (¹), other scripts' digits (٣) and full-width ones (５), and
# int() adds spaces, signs and underscores; none is a number a person types into a URL or a message here. Nine
# digits are more than any count or page we take, and keep int() far from its 4,300-digit limit (a ValueError).
_WHOLE = re.compile(r"[0-9]{1,9}")
DIGITS = "0123456789"


def whole_number(text: str | None) -> int | None:
    """The number text writes in ASCII digits ('12' -> 12), else None ('¹', '٣', ' 1', '+1', '1_0', '')."""
    return int(text) if isinstance(text, str) and _WHOLE.fullmatch(text) else None


def digits_of(text: str) -> str:
    """The ASCII digits of text, in order ('+39 333-12' -> '3933312')."""
    return "".join(ch for ch in text if ch in DIGITS)
