"""A verified webhook body onto its queue: all the webhook endpoint does after checking it (DESIGN.md, Inbound).
Light on purpose (boto3's SQS client, the provider's envelope check): the endpoint's first request after a cold
start imports this, not the inbound worker's services (issue 18)."""
from __future__ import annotations

import hashlib
from datetime import timedelta

from chalicelib.providers import get_provider
from chalicelib.store import queues

# Meta posts up to 3 MB; an SQS message holds 1 MiB (its attributes count too).
MAX_QUEUED_BYTES = 1_000_000
# Meta retries a webhook for up to 7 days: remember handled messages a little longer.
DEDUPE_WINDOW = timedelta(days=8)


def queue_payload(raw_body: bytes, statuses_only: bool = False) -> None:
    """Put a verified webhook body on its queue: the statuses queue when it carries statuses alone (applied in large
    batches, so that a broadcast's flood of them never holds up a citizen's message), the inbound queue otherwise. As
    one message (one request, as nearly every POST), or in parts when too big for one. Parts are queued once per
    body: Meta's retry of a body whose parts went half-way (a failed send: a 500) queues only the rest."""
    logical = "statuses" if statuses_only else "inbound"
    parts = get_provider().webhook_parts(raw_body, MAX_QUEUED_BYTES)
    if len(parts) == 1:
        queues.send(logical, parts[0])
    elif parts:
        queues.send_once(logical, parts, hashlib.sha256(raw_body).hexdigest(), DEDUPE_WINDOW)
