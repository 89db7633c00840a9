"""A channel's WhatsApp message templates: list, create (submitted to Meta's review), poll, choose per purpose."""
from __future__ import annotations

import functools
from urllib.parse import unquote

from chalice import Blueprint, Response

from chalicelib.api import lazy
from chalicelib.api.auth import staff_only
from chalicelib.api.http import ApiError, json_errors, parse_body, query_param
from chalicelib.api.openapi import documented
from chalicelib.domain.access import Capability, Staff

provider_base = lazy("chalicelib.providers.base")
access = lazy("chalicelib.services.access")
templates = lazy("chalicelib.services.admin.templates")

bp = Blueprint(__name__)
PURPOSE_EXAMPLE = {"name": "avviso_comune", "language": "it"}
NEW_EXAMPLE = {"name": "avviso_lavori", "language": "it", "category": "UTILITY",
               "body": "Nuovo avviso del Comune: {{1}}. Tocca il pulsante per leggerlo.",
               "examples": ["Via Roma chiusa per lavori"], "footer": "Scrivi DISATTIVA per non ricevere più avvisi",
               "buttons": ["Leggi l'avviso"]}


def template_errors(view):
    """The service's refusals as JSON answers."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except access.NotFound:
            raise ApiError(404, "not_found", "No such channel for your comune.") from None
        except access.Forbidden as exc:
            raise ApiError(403, "forbidden", f"Your roles do not give access to {exc}.") from None
        except templates.NoAccount:
            raise ApiError(409, "no_business_account", "The channel has no WhatsApp Business Account id "
                                                       "(waba_id): set it in the channel's record.") from None
        except templates.Conflict as exc:
            raise ApiError(409, "template_exists", str(exc), [{"field": "name", "message": str(exc)}]) from None
        except templates.Refused as exc:
            raise ApiError(422, "invalid_request", str(exc), [{"field": exc.field, "message": str(exc)}]) from None
        except provider_base.ProviderError as exc:
            raise ApiError(502, "provider_error", f"WhatsApp did not answer as expected: {exc.message}") from None
    return wrapper


@bp.route("/api/v1/channels/{channel_id}/templates", methods=["GET"])
@documented({200: "TemplateList"}, query="TemplateQuery", errors=(404, 409, 422))
@json_errors
@staff_only(bp, Capability.SETUP, Capability.BROADCASTS)
@template_errors
def list_templates(staff: Staff, channel_id: str):
    """The channel's templates as WhatsApp holds them (status, category, texts, why rejected), and which serves each
    purpose; ?fit=notice: only those a broadcast may use."""
    fit = query_param(bp.current_request, "fit")
    if fit not in (None, "notice"):
        raise ApiError(422, "invalid_request", "fit must be notice.", [{"field": "fit", "message": "notice"}])
    return templates.listing(staff, unquote(channel_id), fit)


@bp.route("/api/v1/channels/{channel_id}/templates", methods=["POST"])
@documented({201: "WhatsAppTemplate"}, body="chalicelib.services.admin.templates:NewTemplate",
            example=NEW_EXAMPLE, errors=(404, 409, 422, 502))
@json_errors
@staff_only(bp, Capability.SETUP)
@template_errors
def create_template(staff: Staff, channel_id: str):
    """Create a template and submit it to WhatsApp's review (it starts PENDING); audited."""
    data = parse_body(bp.current_request, templates.NewTemplate)
    return Response(body=templates.create(staff, unquote(channel_id), data), status_code=201)


@bp.route("/api/v1/channels/{channel_id}/templates/refresh", methods=["POST"])
@documented({200: "TemplateList"}, errors=(404, 409, 502))
@json_errors
@staff_only(bp, Capability.SETUP, Capability.BROADCASTS)
@template_errors
def refresh_templates(staff: Staff, channel_id: str):
    """Ask WhatsApp for the account's templates now (the webhooks keep them current; this catches up)."""
    return templates.refresh(staff, unquote(channel_id))


@bp.route("/api/v1/channels/{channel_id}/templates/purposes/{purpose}", methods=["PUT"])
@documented({200: "TemplateList"}, body="chalicelib.services.admin.templates:PurposeChoice",
            example=PURPOSE_EXAMPLE, errors=(404, 409, 422))
@json_errors
@staff_only(bp, Capability.SETUP)
@template_errors
def choose_template(staff: Staff, channel_id: str, purpose: str):
    """Make an approved template serve a purpose of the channel (e.g. notice: broadcasts outside the 24-hour
    window); audited with the choice before and after."""
    data = parse_body(bp.current_request, templates.PurposeChoice)
    return templates.choose(staff, unquote(channel_id), unquote(purpose)[:40], data)
