"""The commands citizens type on WhatsApp, recognised whatever the case, accents or punctuation."""
from __future__ import annotations

import re
import unicodedata
from enum import Enum


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
