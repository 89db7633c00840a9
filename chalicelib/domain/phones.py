"""Phone numbers in E.164, parsed the way Italian citizens and staff write them (default region IT), and the one
rule that keys a citizen: the E.164 number when known, else `bsuid:` and WhatsApp's business-scoped user id."""
from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "IT"
USER_ID_PREFIX = "bsuid:"
MAX_KEY_LENGTH = 140  # a citizen key, prefix included; longer is no one (DynamoDB keys hold 1,024 bytes with the channel)


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


def citizen_key(phone: str | None, user_id: str | None) -> str:
    """How a citizen is keyed on a channel: the E.164 number, else the business-scoped user id."""
    if phone:
        return phone
    if user_id:
        return USER_ID_PREFIX + user_id
    raise ValueError("a citizen needs a phone number or a user id")


def parse_citizen_key(raw: str) -> str:
    """The citizen key in what staff typed or a URL carried: an E.164 number in any usual writing, or
    'bsuid:<id>'. InvalidPhone for anything else."""
    text = (raw or "").strip()
    if text.startswith(USER_ID_PREFIX):
        if len(text) == len(USER_ID_PREFIX) or len(text) > MAX_KEY_LENGTH:
            raise InvalidPhone("not a business-scoped user id")
        return text
    return normalize(text)


def key_parts(key: str) -> tuple[str | None, str | None]:
    """(phone, user id) of a citizen key: exactly one of them is set."""
    if key.startswith(USER_ID_PREFIX):
        return None, key.removeprefix(USER_ID_PREFIX)
    return key, None


def mask(phone: str | None) -> str:
    """A phone number fit for logs: country code and last two digits only."""
    if not phone:
        return "-"
    if not phone.startswith("+") or len(phone) < 6:
        return "***"
    return f"{phone[:3]}******{phone[-2:]}"
