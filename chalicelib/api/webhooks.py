"""The provider webhook: verify, queue, answer 200; the inbound worker does the rest.

The endpoint does only what DESIGN.md asks of it, as cheaply as it can (issue 18): the signature, the envelope
(json only, no wire models: the worker parses), the SQS send. Unlike other blueprints it imports its one service at
module level: services/webhook_queue.py is light (boto3, which every function uses and the cold-start floor counts,
and the provider's envelope check), so the first webhook after a cold start pays only for its SQS client."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import ApiError, json_errors
from chalicelib.api.limits import body_at_most, per_client
from chalicelib.observability import logger
from chalicelib.providers import get_provider
from chalicelib.providers.webhook import NotAWebhook
from chalicelib.services import abuse, webhook_queue

bp = Blueprint(__name__)
MAX_WEBHOOK_BYTES = 4 * 1024 * 1024  # Meta posts up to 3 MB
# Verified posts from Meta are never limited (a broadcast's statuses come fast); unverified ones are, per IP.
BAD_SIGNATURES = abuse.Limit("webhook-bad-signature", max_hits=60, window_seconds=60)


@bp.route("/webhooks/meta", methods=["GET"])
def meta_handshake():
    challenge = get_provider().verify_challenge(bp.current_request.query_params or {})
    if challenge is None:
        return Response(body="Forbidden", status_code=403, headers={"Content-Type": "text/plain"})
    return Response(body=challenge, status_code=200, headers={"Content-Type": "text/plain"})


@bp.route("/webhooks/meta", methods=["POST"], content_types=["application/json"])
@json_errors
def meta_webhook():
    request = bp.current_request
    raw = body_at_most(request, MAX_WEBHOOK_BYTES)
    provider = get_provider()
    if not provider.verify_signature(raw, request.headers):
        logger.warning("webhook with a bad or missing signature", extra={"size": len(raw)})
        per_client(request, BAD_SIGNATURES)
        raise ApiError(401, "invalid_signature", "The request signature is missing or invalid.")
    try:
        summary = provider.check_webhook(raw)
    except NotAWebhook as exc:
        raise ApiError(400, "not_a_webhook", f"The body is not a WhatsApp webhook payload: {exc}") from None
    if summary.nothing_to_apply:  # 'sent' alone: the send recorded it (docs/decisions.md)
        logger.info("webhook of sent statuses alone, nothing to apply", extra={"statuses": summary.statuses})
        return {"status": "nothing_to_apply"}
    webhook_queue.queue_payload(raw, statuses_only=summary.statuses_only)
    logger.info("webhook queued", extra={"messages": summary.messages, "statuses": summary.statuses})
    return {"status": "queued"}
