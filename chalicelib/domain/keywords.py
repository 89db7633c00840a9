"""The commands citizens type on WhatsApp, recognised whatever the case, accents or punctuation, and the keyword
hints that recognise a report's category in what they wrote."""
from __future__ import annotations

import re
import unicodedata
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.domain.settings import Category


class Command(str, Enum):
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    CONFIRM = "confirm"
    DECLINE = "decline"
    HELP = "help"
    PREFERENCES = "preferences"


PHRASES: dict[Command, frozenset[str]] = {
    Command.SUBSCRIBE: frozenset({
        "attiva", "attivami", "iscrivimi", "mi iscrivo", "iscrivi", "iscrizione", "voglio iscrivermi",
        "start", "inizia", "subscribe",
    }),
    Command.UNSUBSCRIBE: frozenset({
        "disattiva", "disattivami", "stop", "cancellami", "cancella", "basta", "disiscrivimi",
        "annulla iscrizione", "unsubscribe", "stop tutto",
    }),
    Command.CONFIRM: frozenset({"si", "confermo", "conferma", "ok", "yes", "va bene", "certo"}),
    Command.DECLINE: frozenset({"no", "annulla", "non confermo"}),
    Command.HELP: frozenset({"aiuto", "info", "help", "comandi", "?"}),
    Command.PREFERENCES: frozenset({"preferenze", "frazione", "frazioni", "argomenti", "modifica"}),
}

# Words that end every send even at the start of a longer message ("STOP grazie"): opt-out is generous.
OPT_OUT_LEADS = frozenset({"disattiva", "stop", "cancellami", "disiscrivimi"})


def normalize_text(text: str) -> str:
    """Lower case, accents removed, punctuation dropped, spaces collapsed: ' Sì! ' -> 'si'."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    if plain.strip() == "?":
        return "?"
    words = re.sub(r"[^\w\s]", " ", plain).split()
    return " ".join(words)


def parse_command(text: str | None) -> Command | None:
    """The command a citizen's text asks for, or None when it is free text."""
    if not text or len(text) > 200:
        return None
    phrase = normalize_text(text)
    for command, phrases in PHRASES.items():
        if phrase in phrases:
            return command
    words = phrase.split()
    if words and words[0] in OPT_OUT_LEADS and len(words) <= 4:
        return Command.UNSUBSCRIBE
    return None


def guess_category(text: str | None, categories: tuple[Category, ...]) -> Category | None:
    """The one category whose keyword hints appear in the text; None when none or several do."""
    words = normalize_text(text or "")
    if not words:
        return None
    padded = f" {words} "
    found = [c for c in categories if any(_mentions(padded, normalize_text(k)) for k in c.keywords)]
    return found[0] if len(found) == 1 else None


def mentions_any(text: str | None, keywords: tuple[str, ...]) -> bool:
    """Whether the text names any of the keywords (whole words, case and accents aside; a keyword may be a phrase)."""
    words = normalize_text(text or "")
    padded = f" {words} "
    return bool(words) and any(_mentions(padded, normalize_text(k)) for k in keywords)


def _mentions(padded_text: str, keyword: str) -> bool:
    """Whole words, with a plural or gender ending allowed: 'buca' matches 'buche' and 'buca'."""
    if not keyword:
        return False
    if f" {keyword} " in padded_text:
        return True
    stem = keyword[:-1] if len(keyword) > 4 else keyword
    return re.search(rf"\s{re.escape(stem)}\w{{0,2}}\s", padded_text) is not None
