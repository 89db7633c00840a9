"""Phone numbers in E.164, parsed the way Italian citizens and staff write them (default region IT)."""
from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "IT"


class InvalidPhone(ValueError):
    """Not a phone number a WhatsApp user can have."""


def normalize(raw: str, region: str = DEFAULT_REGION) -> str:
    """'335 139 7378', '335/1397378', '+39 335 1397378', '0039 3351397378' -> '+393351397378'."""
    text = (raw or "").strip()
    if not text or len(text) > 32:
        raise InvalidPhone("phone number is empty or too long")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone("not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask(phone: str | None) -> str:
    """A phone number fit for logs: country code and last two digits only."""
    if not phone:
        return "-"
    if not phone.startswith("+") or len(phone) < 6:
        return "***"
    return f"{phone[:3]}******{phone[-2:]}"
