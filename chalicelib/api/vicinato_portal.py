"""The citizen portal's «Controllo del Vicinato» page under /public/v1: the zones to choose from, and the request to
join, which waits for the number's owner to confirm on WhatsApp (services.vicinato.web_join)."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api import lazy
from chalicelib.api.http import ApiError, client_ip, json_errors, parse_body
from chalicelib.api.limits import body_at_most, per_client, too_many
from chalicelib.api.openapi import documented
from chalicelib.services import abuse

web_join = lazy("chalicelib.services.vicinato.web_join")

bp = Blueprint(__name__)
READS_PER_CLIENT = abuse.Limit("public-read", max_hits=600, window_seconds=600)  # the portal's reads share one limit
NOT_ACTIVE = "Il Controllo del Vicinato non accetta richieste dal sito per questo comune."


@bp.route("/public/v1/{tenant}/vicinato", methods=["GET"])
@documented({200: "VicinatoPortal"}, errors=(404, 429))
@json_errors
def vicinato_setup(tenant: str):
    """The page's set-up: whether requests are open, whether an ID photo is needed, the zones (id and name)."""
    per_client(bp.current_request, READS_PER_CLIENT)
    try:
        body = web_join.public_view(tenant)
    except web_join.NotActive:
        raise ApiError(404, "not_found", NOT_ACTIVE) from None
    except LookupError:
        raise ApiError(404, "not_found", "Comune non trovato.") from None
    return Response(body=body, status_code=200, headers={"Cache-Control": "public, max-age=60"})


@bp.route("/public/v1/{tenant}/vicinato/requests", methods=["POST"], content_types=["application/json"])
@documented({202: "VicinatoRequested"}, body="chalicelib.services.vicinato.web_join:WebJoin", errors=(404, 413, 429),
            example={"zone": "nord", "name": "Maria Rossi", "address": "Via Roma 3", "phone": "+39 333 111 2222",
                     "consent": True, "notice_version": "v3"})
@json_errors
def vicinato_request(tenant: str):
    """A request to join Vicinato: it reaches the police only after the number's owner taps «Confermo» on WhatsApp;
    unconfirmed ones (and their ID photo) are deleted after 48 hours. ID photo in base64 (1.25 MB at most); limited per
    client and per phone; website must stay empty."""
    request = bp.current_request
    body_at_most(request, web_join.MAX_BODY_BYTES)
    form = parse_body(request, web_join.WebJoin)
    try:
        answer = web_join.submit(tenant, form, client_ip(request))
    except web_join.NotActive:
        raise ApiError(404, "not_found", NOT_ACTIVE) from None
    except LookupError:
        raise ApiError(404, "not_found", "Comune non trovato.") from None
    except abuse.TooMany as exc:
        raise too_many(exc, "Troppe richieste: riprova più tardi.") from None
    return Response(body=answer, status_code=202)
