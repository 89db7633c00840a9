"""Phone numbers in E.164, parsed the way Italian citizens and staff write them (default region IT), and the one
rule that keys a citizen: the E.164 number when known, else `bsuid:` and WhatsApp's business-scoped user id."""
from __future__ import annotations

import re

import phonenumbers

DEFAULT_REGION = "IT"
USER_ID_PREFIX = "bsuid:"
# WhatsApp's business-scoped user id (BSUID): a country code, a dot, then up to 128 alphanumeric characters, e.g.
# US.13491208655302741918 (Meta, 2026); a managed business's parent ids add dotted segments (US.ENT.118...).
USER_ID_PATTERN = r"[A-Za-z]{2}\.[A-Za-z0-9.]{1,128}"
_USER_ID = re.compile(USER_ID_PATTERN)
MAX_USER_ID_LENGTH = 2 + 1 + 128
# A citizen key, prefix included: 137 characters of ASCII (an E.164 number is at most 16). DynamoDB's sort keys hold
# 1,024 bytes and its partition keys 2,048: the key alone (citizens, deliveries) and with a channel id ("<channel id>#
# <key>", consents and reports) fit many times over, so no citizen can make a write fail after a reply was sent.
MAX_KEY_LENGTH = len(USER_ID_PREFIX) + MAX_USER_ID_LENGTH


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


def is_user_id(text: str | None) -> bool:
    """Whether text is a business-scoped user id as WhatsApp writes them (a country code, a dot, 1-128 more)."""
    return isinstance(text, str) and _USER_ID.fullmatch(text) is not None


def citizen_key(phone: str | None, user_id: str | None) -> str:
    """How a citizen is keyed on a channel: the E.164 number, else the business-scoped user id."""
    key = phone or (USER_ID_PREFIX + user_id if user_id else None)
    if key is None:
        raise ValueError("a citizen needs a phone number or a user id")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"a citizen key is at most {MAX_KEY_LENGTH} characters")
    return key


def parse_citizen_key(raw: str) -> str:
    """The citizen key in what staff typed or a URL carried: an E.164 number in any usual writing, or
    'bsuid:<id>'. InvalidPhone for anything else."""
    text = (raw or "").strip()
    if text.startswith(USER_ID_PREFIX):
        if not is_user_id(text.removeprefix(USER_ID_PREFIX)):
            raise InvalidPhone("not a business-scoped user id")
        return text
    return normalize(text)


def key_parts(key: str) -> tuple[str | None, str | None]:
    """(phone, user id) of a citizen key: exactly one of them is set."""
    if key.startswith(USER_ID_PREFIX):
        return None, key.removeprefix(USER_ID_PREFIX)
    return key, None


def mask_key(key: str) -> str:
    """A citizen key fit to show where the person must not be named: a number masked, a user id hidden."""
    phone, _ = key_parts(key)
    return mask(phone) if phone else f"{USER_ID_PREFIX}***"


def mask(phone: str | None) -> str:
    """A phone number fit for logs: country code and last two digits only."""
    if not phone:
        return "-"
    if not phone.startswith("+") or len(phone) < 6:
        return "***"
    return f"{phone[:3]}******{phone[-2:]}"
