"""What the citizens' web forms (report, subscription) share: a refusal in words for the person filling it."""
from __future__ import annotations


class FormRefused(ValueError):
    """What is wrong with a form, in Italian for the person filling it, and which field (the API answers 422)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
