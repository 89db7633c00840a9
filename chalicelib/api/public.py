"""Public endpoints under /public/v1: what citizens reach without an account."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api import lazy
from chalicelib.api.http import ApiError, client_ip, json_errors, parse_body
from chalicelib.api.limits import body_at_most, too_many
from chalicelib.api.openapi import documented
from chalicelib.services import abuse

conversation = lazy("chalicelib.services.subscriptions.conversation")
web_form = lazy("chalicelib.services.subscriptions.web_form")

bp = Blueprint(__name__)
MAX_FORM_BYTES = 8 * 1024


@bp.route("/public/v1/{tenant}/subscriptions", methods=["POST"], content_types=["application/json"])
@documented({202: "Pending"}, body="chalicelib.services.subscriptions.web_form:FormRequest", errors=(404, 413, 429, 503),
            example={"phone": "+39 333 111 2222", "consent": True, "hamlets": ["pieve"]})
@json_errors
def subscribe(tenant: str):
    """The comune's web form: a confirmation goes to the phone on WhatsApp; only the citizen's reply activates the
    subscription. Limited per phone and per client."""
    request = bp.current_request
    body_at_most(request, MAX_FORM_BYTES)
    form = parse_body(request, web_form.FormRequest)
    try:
        web_form.submit(tenant, form, client_ip(request))
    except conversation.NoTemplate:
        raise ApiError(503, "unavailable", "L'iscrizione dal sito non è ancora attiva per questo comune.") from None
    except LookupError:
        raise ApiError(404, "not_found", "Comune non trovato.") from None
    except abuse.TooMany as exc:
        raise too_many(exc, "Troppe richieste: riprova più tardi.") from None
    return Response(status_code=202, body={
        "status": "pending_confirmation",
        "message": "Ti abbiamo scritto su WhatsApp: conferma l'iscrizione rispondendo al messaggio.",
    })
