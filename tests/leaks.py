"""What a public page or an email shows, made fit for a search for personal data.

The search looks for short pieces of a citizen's data ("347", "187"); the local stack's random port
numbers, random tokens and timestamps with microseconds can hold them by chance. They are replaced by
placeholders first, so that a test fails on a leak and never on a coincidence.
"""
from __future__ import annotations

import re

_LOCAL_HOST = re.compile(r"(?:127\.0\.0\.1|localhost):\d+")
_ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)?")


def shown(text: str, *tokens: str) -> str:
    """The text with the local addresses, the given tokens and ISO timestamps as placeholders."""
    for token in tokens:
        text = text.replace(token, "<token>")
    text = _LOCAL_HOST.sub("<host>", text)
    return _ISO_TIME.sub("<time>", text)
