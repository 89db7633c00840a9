"""WhatsApp's limits on what a citizen is shown: list rows, reply buttons, templates and their parameters."""
from __future__ import annotations

import re

# interactive messages (Meta's reference, docs/whatsapp-provider.md section 3; list messages: 10 rows in all)
LIST_ROW_TITLE_MAX = 24
LIST_ROWS_MAX = 10
REPLY_BUTTON_TITLE_MAX = 20  # also the button that opens a list
# templates as WhatsApp Manager approves them
TEMPLATE_BODY_MAX = 1024  # also once the parameters are filled in (error 132005)
TEMPLATE_FOOTER_MAX = 60
TEMPLATE_BUTTON_TEXT_MAX = 25
TEMPLATE_BUTTONS_MAX = 10

_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
# error 132018: "Param text cannot have new-line/tab characters or more than 4 consecutive spaces"
_BAD_PARAMETER = re.compile(r"[\n\r\t]| {5,}")


def parameter_problem(text: str) -> str | None:
    """Why WhatsApp would refuse `text` as a template parameter (error 132018, or 131008 when empty), or None."""
    if not text.strip():
        return "is empty"
    if _BAD_PARAMETER.search(text):
        return "must be one line, without tabs or more than four spaces in a row (WhatsApp refuses it, error 132018)"
    return None


def placeholders(body: str) -> int:
    """How many parameters a template body takes: {{1}}, {{2}}, ... each once, none skipped; ValueError else."""
    numbers = [int(n) for n in _PLACEHOLDER.findall(body)]
    if sorted(numbers) != list(range(1, len(numbers) + 1)):
        raise ValueError(f"placeholders must be {{{{1}}}}, {{{{2}}}}, ... each once and without gaps, got {numbers}")
    return len(numbers)


def fill(body: str, parameters: list[str]) -> str:
    """A template body with its parameters in place: what the citizen reads."""
    return _PLACEHOLDER.sub(lambda m: parameters[int(m.group(1)) - 1], body)


def filled_length(body: str, parameter_lengths: list[int]) -> int:
    """The length of a body once parameters of these lengths are in place (checked against TEMPLATE_BODY_MAX)."""
    return len(_PLACEHOLDER.sub("", body)) + sum(parameter_lengths)
