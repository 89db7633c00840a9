"""The staff API for two-way conversations ("Messaggi"): list, unread count, read, answer, assign, done."""
from __future__ import annotations

import functools
from urllib.parse import unquote

from chalice import Blueprint, Response

from chalicelib.api import lazy
from chalicelib.api.auth import staff_only
from chalicelib.api.http import ApiError, json_errors, page_limit, parse_body, query_param
from chalicelib.api.openapi import documented
from chalicelib.domain.access import CONVERSATION_KINDS, Staff

access = lazy("chalicelib.services.access")
desk = lazy("chalicelib.services.conversations.desk")
conversation_store = lazy("chalicelib.store.conversations")

bp = Blueprint(__name__)
ANY_OFFICE = tuple(dict.fromkeys(CONVERSATION_KINDS.values()))  # broadcasts, reports or tips: a channel's office
MAX_ID = 300


def conversation_errors(view):
    """The services' refusals as JSON answers."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except access.NotFound:
            raise ApiError(404, "not_found", "No such conversation for your comune.") from None
        except access.Forbidden as exc:
            raise ApiError(403, "forbidden", f"Your roles do not give access to {exc}.") from None
        except desk.WindowClosed as exc:
            return Response(body={"error": {"code": "window_closed", "message": exc.reason,
                                            "templates": exc.templates}},
                            status_code=409, headers={"Content-Type": "application/json"})
        except desk.Refused as exc:
            details = [{"field": exc.field, "message": str(exc)}] if exc.field else None
            raise ApiError(422, "invalid_request", str(exc), details) from None
        except conversation_store.Conflict:
            raise ApiError(409, "conflict", "The conversation changed meanwhile: reload it and try again.") from None
    return wrapper


def _id(raw: str) -> str:
    return unquote(raw)[:MAX_ID]


@bp.route("/api/v1/conversations", methods=["GET"])
@documented({200: "ConversationList"}, query="ConversationQuery", errors=(422,))
@json_errors
@staff_only(bp, *ANY_OFFICE)
@conversation_errors
def list_conversations(staff: Staff):
    """The conversations of the caller's channels, latest message first (audited)."""
    request = bp.current_request
    mine = query_param(request, "mine")
    if mine not in (None, "true", "false"):
        raise ApiError(422, "invalid_request", "mine must be true or false.", [{"field": "mine", "message": "true or false"}])
    items = desk.list_for(staff, query_param(request, "status"), mine == "true", page_limit(request),
                          request.context.get("requestId"))
    return {"items": items}


@bp.route("/api/v1/conversations/unread", methods=["GET"])
@documented({200: "UnreadConversations"})
@json_errors
@staff_only(bp, *ANY_OFFICE)
def unread_conversations(staff: Staff):
    """How many of the caller's conversations have a message nobody opened: the console's badge."""
    return {"count": desk.unread_count(staff)}


@bp.route("/api/v1/conversations/{conversation_id}", methods=["GET"])
@documented({200: "Conversation"}, errors=(404,))
@json_errors
@staff_only(bp, *ANY_OFFICE)
@conversation_errors
def read_conversation(staff: Staff, conversation_id: str):
    """One conversation: its messages with the delivery of each answer, the 24-hour window, the templates outside
    it. Opening it marks it read (audited)."""
    return desk.read(staff, _id(conversation_id), bp.current_request.context.get("requestId"))


@bp.route("/api/v1/conversations/{conversation_id}/replies", methods=["POST"], content_types=["application/json"])
@documented({201: "ConversationMessage", 409: "WindowClosed"}, body="chalicelib.services.conversations.desk:NewReply",
            errors=(404,),
            example={"text": "Buongiorno, la strada riapre domani alle 8."})
@json_errors
@staff_only(bp, *ANY_OFFICE)
@conversation_errors
def reply_to_conversation(staff: Staff, conversation_id: str):
    """Answer the citizen on WhatsApp (audited): free text within 24 hours of their last message, else one of the
    channel's approved templates (409 window_closed lists them). Saved in the conversation, then queued."""
    data = parse_body(bp.current_request, desk.NewReply)
    return Response(body=desk.reply(staff, _id(conversation_id), data), status_code=201)


@bp.route("/api/v1/conversations/{conversation_id}/assign", methods=["POST"], content_types=["application/json"])
@documented({200: "Conversation"}, body="chalicelib.services.conversations.desk:Assignment",
            errors=(404,), example={"assignee": "me"})
@json_errors
@staff_only(bp, *ANY_OFFICE)
@conversation_errors
def assign_conversation(staff: Staff, conversation_id: str):
    """Give the conversation to the caller ("me"), to another staff member ({subject, name}) or to nobody (null)."""
    return desk.assign(staff, _id(conversation_id), parse_body(bp.current_request, desk.Assignment))


@bp.route("/api/v1/conversations/{conversation_id}/status", methods=["POST"], content_types=["application/json"])
@documented({200: "Conversation"}, body="chalicelib.services.conversations.desk:StatusChange",
            errors=(404,), example={"status": "done"})
@json_errors
@staff_only(bp, *ANY_OFFICE)
@conversation_errors
def set_conversation_status(staff: Staff, conversation_id: str):
    """Mark the conversation done ("Fatto") or open again."""
    return desk.set_status(staff, _id(conversation_id), parse_body(bp.current_request, desk.StatusChange))
