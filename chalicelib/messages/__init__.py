"""Citizen-facing texts from a catalogue per language (Italian first); channels may override any text."""
from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path

DEFAULT_LANGUAGE = "it"


class _KeepMissing(dict):
    def __missing__(self, key: str) -> str:
        return ""


@cache
def catalogue(language: str) -> dict[str, str]:
    path = Path(__file__).with_name(f"{language}.json")
    if not path.exists():
        path = Path(__file__).with_name(f"{DEFAULT_LANGUAGE}.json")
    return json.loads(path.read_text(encoding="utf-8"))


def text(key: str, language: str = DEFAULT_LANGUAGE, overrides: Mapping[str, str] | None = None,
         **params: object) -> str:
    """The text for key, from the channel's overrides when it has one, with params filled in."""
    template = (overrides or {}).get(key) or catalogue(language).get(key) or catalogue(DEFAULT_LANGUAGE)[key]
    return template.format_map(_KeepMissing({k: "" if v is None else v for k, v in params.items()}))
