"""What of a report may leave the comune: the street without its number, a generalised position, masked contacts.

Citizens type names, phone numbers and house numbers into addresses ("citofono Rossi 347 555 0199") and their
own words into descriptions. Public surfaces (Open311, the portal, the status page) show none of that until staff
approve a public text (DESIGN.md, "What a citizen wrote stays internal"); these are the rules they share.
"""
from __future__ import annotations

import re

# ~110 m north-south and ~80 m east-west at the latitude of Tuscany: enough to find a pothole, not a front door
POSITION_DECIMALS = 3

# The "denominazione urbanistica generica" an Italian street name starts with (ISTAT's list, and its usual
# abbreviations). An address that starts with none of them is not a street: it is not shown at all.
STREET_TYPES = frozenset({
    "via", "v.", "viale", "v.le", "vle", "piazza", "p.za", "p.zza", "pza", "piazzale", "p.le", "piazzetta", "largo",
    "l.go", "vicolo", "v.lo", "vico", "corso", "c.so", "strada", "str.", "stradone", "stradella", "località", "localita",
    "loc.", "loc", "contrada", "c.da", "borgo", "b.go", "lungarno", "lungomare", "lungolago", "lungofiume", "salita",
    "scesa", "discesa", "rampa", "traversa", "circonvallazione", "galleria", "passaggio", "calle", "campo",
    "fondamenta", "riva", "frazione", "fraz.", "podere", "sentiero", "viottolo", "vialetto", "rione", "quartiere",
})
# A street name's own words never are these: what follows them is a house number, a flat or a person.
STOP_WORDS = frozenset({
    "n", "n.", "nr", "nr.", "n°", "no.", "num", "num.", "numero", "civ", "civ.", "civico", "int", "int.", "interno",
    "sc", "sc.", "scala", "pal", "pal.", "palazzina", "citofono", "cit.", "campanello", "c/o", "presso", "casa",
    "famiglia", "fam", "fam.", "sig", "sig.", "sig.ra", "sig.na", "signor", "signora", "dott", "dott.", "snc",
    "s.n.c.", "s.n.", "km", "cap", "tel", "tel.", "telefono", "cell", "cell.", "email", "mail", "e-mail", "vicino",
    "accanto", "davanti", "dietro", "altezza", "all'altezza", "angolo", "ang.",
})
MONTHS = frozenset({"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre",
                    "ottobre", "novembre", "dicembre"})  # "Via 4 Novembre": a number that is part of the name
STREET_MAX_WORDS = 6  # "Via Vittorio Emanuele II", "Lungarno Amerigo Vespucci": longer is free text
_SEGMENT_END = re.compile(r"[,;:()\[\]{}<>\n\r\t|]| - ")
_PHONE_LIKE = re.compile(r"\+?\d[\d .\-/]{6,}\d")
_EMAIL_LIKE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_NOT_PRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


def street_only(address: str | None) -> str | None:
    """The street an address names, without house number, flat, staircase, names, phones or emails:
    "Via Garibaldi 187/B, interno 4, citofono Rossi" -> "Via Garibaldi"; "citofono Rossi 347 555 0199" -> None.
    None when the address does not start with a street type (it may be anything a citizen typed)."""
    first = _SEGMENT_END.split(_NOT_PRINTABLE.sub(" ", address or ""), maxsplit=1)[0]
    words = first.split()
    if len(words) < 2 or words[0].lower() not in STREET_TYPES:
        return None
    kept = [words[0]]
    for index, word in enumerate(words[1:], start=1):
        following = words[index + 1].lower() if index + 1 < len(words) else ""
        if word.lower() in STOP_WORDS or "@" in word or "/" in word or len(kept) >= STREET_MAX_WORDS:
            break
        if any(ch.isdigit() for ch in word) and not (word.isdigit() and following in MONTHS):
            break
        kept.append(word)
    return " ".join(kept) if len(kept) > 1 else None


def generalised(latitude: float, longitude: float) -> tuple[float, float]:
    """A position rounded to POSITION_DECIMALS: the same for every public surface."""
    return round(latitude, POSITION_DECIMALS), round(longitude, POSITION_DECIMALS)


def mask_contacts(text: str | None) -> str:
    """Phone numbers and email addresses in a staff member's public note do not leave the comune either."""
    return _EMAIL_LIKE.sub("[email]", _PHONE_LIKE.sub("[telefono]", text or ""))
