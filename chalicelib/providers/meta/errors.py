"""Meta's error codes and HTTP statuses, as a table of what the sender does about each (ErrorClass)."""
from __future__ import annotations

from chalicelib.providers.base import ErrorClass

_CODE_CLASSES: dict[int, ErrorClass] = {
    **{code: ErrorClass.FATAL for code in range(200, 300)},  # API permission errors
    # throughput, pair rate, WABA rate and app-level Graph rate limits
    130429: ErrorClass.RATE_LIMITED,
    131056: ErrorClass.RATE_LIMITED,
    80007: ErrorClass.RATE_LIMITED,
    4: ErrorClass.RATE_LIMITED,
    613: ErrorClass.RATE_LIMITED,
    # unknown error, service unavailable, maintenance, API unknown / down
    131000: ErrorClass.TRANSIENT,
    131016: ErrorClass.TRANSIENT,
    131057: ErrorClass.TRANSIENT,
    1: ErrorClass.TRANSIENT,
    2: ErrorClass.TRANSIENT,
    # media download/processing failed on Meta's side (the link, the upload): may work on a second try
    131053: ErrorClass.MEDIA,
    # more than 24 h since the user's last message
    131047: ErrorClass.WINDOW_CLOSED,
    # undeliverable, marketing stopped, marketing cap, recipient is sender, experiment group,
    # BSUID not supported for this message, not in the test number's allowed list
    131026: ErrorClass.RECIPIENT,
    131050: ErrorClass.RECIPIENT,
    131049: ErrorClass.RECIPIENT,
    131021: ErrorClass.RECIPIENT,
    130472: ErrorClass.RECIPIENT,
    131062: ErrorClass.RECIPIENT,
    131030: ErrorClass.RECIPIENT,
    100: ErrorClass.RECIPIENT,  # "(#100) Invalid parameter": what a malformed number gets
    # token, access, template, policy block, auth, permission, capability, locked, payment
    190: ErrorClass.FATAL,
    131005: ErrorClass.FATAL,
    132000: ErrorClass.FATAL,
    132001: ErrorClass.FATAL,
    368: ErrorClass.FATAL,
    0: ErrorClass.FATAL,
    10: ErrorClass.FATAL,
    3: ErrorClass.FATAL,
    131031: ErrorClass.FATAL,
    131042: ErrorClass.FATAL,
    132015: ErrorClass.FATAL,
    132016: ErrorClass.FATAL,
}

# HTTP statuses that decide the class when Meta's code does not: a bad token or a refused
# permission stops the channel whatever the body says.
_STATUS_CLASSES: dict[int, ErrorClass] = {
    401: ErrorClass.FATAL,
    403: ErrorClass.FATAL,
}


def classify(http_status: int | None, code: int | None) -> ErrorClass:
    """The class of a Meta error, from the HTTP status (None for webhook errors) and error code."""
    if http_status == 429:
        return ErrorClass.RATE_LIMITED
    if code is not None and code in _CODE_CLASSES:
        return _CODE_CLASSES[code]
    if http_status in _STATUS_CLASSES:
        return _STATUS_CLASSES[http_status]
    if http_status is not None and 400 <= http_status < 500:
        return ErrorClass.RECIPIENT
    if http_status is None and code is not None:
        return ErrorClass.RECIPIENT  # an unknown code on a failed-status webhook
    return ErrorClass.TRANSIENT  # 5xx, odd statuses, no status and no code
