"""Meta's error codes and HTTP statuses, as a table of what the sender does about each (ErrorClass)."""
from __future__ import annotations

from chalicelib.providers.base import ErrorClass

RATE_LIMITED = ErrorClass.RATE_LIMITED
RECIPIENT_RATE_LIMITED = ErrorClass.RECIPIENT_RATE_LIMITED
TRANSIENT = ErrorClass.TRANSIENT
MEDIA = ErrorClass.MEDIA
WINDOW_CLOSED = ErrorClass.WINDOW_CLOSED
RECIPIENT = ErrorClass.RECIPIENT
FATAL = ErrorClass.FATAL

# Code -> class. Each comment gives Meta's meaning (support/error-codes; pywa's errors.py where Meta's page
# is silent; /work/shared/reference/whatsapp-provider.md section 5.9), then why the class, when not obvious.
# FATAL stops the channel: a broadcast pauses with the code and Meta's text as the reason staff read, instead
# of failing its audience one by one; it is for what is wrong with the number, the account or the message
# itself, which the next recipient would meet too.
_CODE_CLASSES: dict[int, ErrorClass] = {
    # ---- the number or the app is sending too fast: back off, retry what is unsent
    130429: RATE_LIMITED,  # "Cloud API message throughput has been reached" (the number's messages a second)
    80007: RATE_LIMITED,  # "The WhatsApp Business Account has reached its rate limit"
    4: RATE_LIMITED,  # "The app has reached its API call rate limit"
    613: RATE_LIMITED,  # "Calls to this api have exceeded the rate limit"
    # ---- one recipient has had too many lately: that one waits, the others go on at full pace
    131056: RECIPIENT_RATE_LIMITED,  # "(Business Account, Consumer Account) pair rate limit hit": "too many
    # messages sent from the sender phone number to the same recipient phone number in a short period of time";
    # 1 message every 6 s, retry after 4^X s, "you can still send messages to a different phone number"
    # ---- Meta's side is down or busy for a moment: retry with backoff
    131000: TRANSIENT,  # "Something went wrong": unknown error
    131016: TRANSIENT,  # "Service unavailable": a service is temporarily unavailable
    131057: TRANSIENT,  # "Account in maintenance mode" (a throughput upgrade: up to a minute)
    1: TRANSIENT,  # "API Unknown": invalid request or possible server error
    2: TRANSIENT,  # "API Service": temporary downtime or overload
    # ---- Meta could not fetch or process the media (the link, the upload): may work on a second try
    131053: MEDIA,  # "Media upload error"
    # ---- more than 24 h since the citizen's last message: the channel's approved template instead
    131047: WINDOW_CLOSED,  # "Re-engagement message"
    # ---- about this recipient only: record it with its code, no retry, the others go on
    131026: RECIPIENT,  # "Message undeliverable": not on WhatsApp, old app, terms not accepted, blocked us
    131050: RECIPIENT,  # "User has stopped marketing messages"
    131049: RECIPIENT,  # "not delivered to maintain healthy ecosystem engagement" (per-user marketing cap)
    131021: RECIPIENT,  # "Recipient cannot be sender"
    130472: RECIPIENT,  # "User's number is part of an experiment"
    131062: RECIPIENT,  # a business-scoped user id is not supported for this message: send by phone number
    131030: RECIPIENT,  # "Recipient phone number not in allowed list" (a test number's five)
    130497: RECIPIENT,  # "Business account is restricted from messaging users in this country": the
    # recipient's country, answered with HTTP 403; a subscriber with a foreign number must not pause the comune
    100: RECIPIENT,  # "(#100) Invalid parameter": what a malformed number gets
    131009: RECIPIENT,  # "Parameter value is not valid": what a number that cannot exist gets
    # ---- the token or the app's permissions: halt until fixed
    190: FATAL,  # "Access token has expired" or is invalid
    0: FATAL,  # "AuthException": the app user could not be authenticated
    3: FATAL,  # "API Method": capability or permissions issue
    10: FATAL,  # "Permission denied"
    **{code: FATAL for code in range(200, 300)},  # "API Permission": not granted or removed
    131005: FATAL,  # "Access denied": permission not granted or removed
    # ---- the account: blocked, locked, unpaid
    368: FATAL,  # "Temporarily blocked for policies violations"
    131031: FATAL,  # "Business Account locked"
    131042: FATAL,  # "Business eligibility payment issue"
    # ---- the number itself: its quality, its registration; every recipient would get the same answer
    131048: FATAL,  # "Spam rate limit hit": "restrictions on how many messages can be sent from this phone
    # number... because too many previous messages were blocked or flagged as spam"; check the quality in
    # WhatsApp Manager before going on: sending on would make it worse
    131064: FATAL,  # a messaging limit imposed for template-classification violations: halt, review templates
    131045: FATAL,  # "Incorrect certificate": "message failed to send due to a phone number registration error"
    133016: FATAL,  # "Account register deregister rate limit exceeded": too many registration attempts of the
    # number in a short time (10 in 72 h): it cannot send until registered again
    # ---- the message itself (its template, flow or type): the next recipient would be refused the same
    132000: FATAL,  # "Number of parameters does not match the expected number of params"
    132001: FATAL,  # "Template name does not exist in the translation" (or is not approved)
    132005: FATAL,  # "Translated text too long"
    132007: FATAL,  # "Template format character policy violated"
    132012: FATAL,  # "Parameter format does not match format in the created template"
    132015: FATAL,  # "Template is Paused" for low quality
    132016: FATAL,  # "Template is Disabled" for low quality, for good
    132068: FATAL,  # "Flow is blocked": no new message with this flow can be sent
    132069: FATAL,  # "Flow is throttled": 10 messages with this flow already sent in the last hour
    131063: FATAL,  # marketing templates are disabled for the Cloud API
    131051: FATAL,  # "Unsupported message type"
    131008: FATAL,  # "Required parameter is missing" (the recipient's is checked before sending)
}

# HTTP statuses that decide the class when Meta's code does not: a bad token or a refused
# permission stops the channel whatever the body says.
_STATUS_CLASSES: dict[int, ErrorClass] = {
    401: FATAL,
    403: FATAL,
}


def classify(http_status: int | None, code: int | None) -> ErrorClass:
    """The class of a Meta error, from the HTTP status (None for webhook errors) and error code."""
    if http_status == 429:
        return RATE_LIMITED
    if code is not None and code in _CODE_CLASSES:
        return _CODE_CLASSES[code]
    if http_status in _STATUS_CLASSES:
        return _STATUS_CLASSES[http_status]
    if http_status is not None and 400 <= http_status < 500:
        return RECIPIENT
    if http_status is None and code is not None:
        return RECIPIENT  # an unknown code on a failed-status webhook
    return TRANSIENT  # 5xx, odd statuses, no status and no code
