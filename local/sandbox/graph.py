"""The Graph API paths the app's Meta provider calls (/{version}/{object}[/{edge}], /_media/), bearer checked."""
from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

from . import meta
from .channels import Channels
from .faults import Faults
from .httpd import Request, Response, error_response, json_response
from .media import MediaStore
from .messages import MessagesEndpoint
from .meta import GraphError
from .recorder import Recorder
from .statuses import StatusWebhooks
from .templates import TemplateError, Templates

SUPPORTED_VERSIONS = ("v23.0", "v24.0", "v25.0", "v26.0")
GRAPH_PATH = re.compile(r"^/(v\d+\.\d+)/([^/]+)(?:/([^/]+))?/?$")


class GraphApi:
    """Routes Graph API requests: messages, media upload, lookup and deletion, phone numbers, media downloads."""

    def __init__(self, *, access_token: str, versions_any: bool, channels: Channels, templates: Templates,
                 media: MediaStore, faults: Faults, recorder: Recorder, statuses: StatusWebhooks,
                 pause: Callable[[float], Any], own_url: Callable[[], str]):
        self._access_token, self._versions_any = access_token, versions_any
        self._channels, self._media, self._faults, self._own_url = channels, media, faults, own_url
        self._templates = templates
        self._messages = MessagesEndpoint(authorize=self.authorize, channels=channels, templates=templates,
                                          media=media, faults=faults, recorder=recorder, statuses=statuses,
                                          pause=pause)

    def handle(self, request: Request, version: str, object_id: str, edge: str | None) -> Response:
        self._check_version(version)
        if edge == "messages" and request.method == "POST":
            return self._messages.post(request, object_id)
        self.authorize(request)
        if edge == "media" and request.method == "POST":
            self._channels.require(object_id)
            media_id = self._media.upload(request.headers.get("Content-Type") or "", request.body)
            return json_response(200, {"id": media_id})
        if edge == "message_templates" and request.method in ("GET", "POST"):
            return self._message_templates(request, object_id)
        if edge is None and request.method == "GET":
            return self._get_object(request, object_id)
        if edge is None and request.method == "DELETE":
            return self._delete_media(object_id)
        raise GraphError(2500, f"Unknown path components: /{edge or ''}", http_status=404,
                         message=f"Unknown path components: /{edge or object_id}")

    def authorize(self, request: Request) -> None:
        """Raise 190 unless the request carries the access token (bearer header or access_token parameter)."""
        header = request.headers.get("Authorization") or ""
        token = header[7:].strip() if header[:7].lower() == "bearer " else request.query.get("access_token", "")
        if not token or not secrets.compare_digest(token.encode(), self._access_token.encode()):
            raise GraphError(190, "Malformed access token" if token else "An access token is required")

    def download(self, request: Request, media_id: str) -> Response:
        """GET /_media/{media_id}?token=...: the bytes behind a media URL, with the bearer, until the URL expires."""
        self.authorize(request)
        media = self._media.download(media_id, request.query.get("token", ""))
        if media is None:
            return error_response(404, "media URL unknown or expired: ask GET /{version}/{media_id} again")
        return Response(200, media.data, media.mime_type)

    def _check_version(self, version: str) -> None:
        if not self._versions_any and version not in SUPPORTED_VERSIONS:
            raise GraphError(2635, f"Supported versions: {', '.join(SUPPORTED_VERSIONS)}",
                             message=f"(#2635) You are calling a deprecated version of the Graph API. "
                                     f"Please update to the latest version: {SUPPORTED_VERSIONS[-1]}.")

    def _get_object(self, request: Request, object_id: str) -> Response:
        """A media id: its URL (and details); a phone_number_id: the phone number's profile."""
        media = self._media.get(object_id)
        if media is not None:
            self._faults.media_fault()
            token = self._media.new_url_token(media.id)
            base = f"http://{request.host}" if request.host else self._own_url()
            return json_response(200, {"messaging_product": "whatsapp", "url": f"{base}/_media/{media.id}?token={token}",
                                       "mime_type": media.mime_type, "sha256": media.sha256,
                                       "file_size": len(media.data), "id": media.id})
        channel = self._channels.get(object_id)
        if channel is not None:
            return json_response(200, {
                "id": object_id, "display_phone_number": channel["display_phone_number"],
                "verified_name": channel["name"], "quality_rating": "GREEN", "code_verification_status": "VERIFIED",
                "throughput": {"level": "STANDARD"}, "platform_type": "CLOUD_API"})
        raise meta.unknown_object(object_id, "get")

    def _message_templates(self, request: Request, waba_id: str) -> Response:
        """POST /{waba_id}/message_templates: submit a template for review ({id, status: PENDING, category});
        GET: the account's templates ({data, paging}), filtered by name and status as Meta's query takes them."""
        if not self._channels.has_account(waba_id):
            raise meta.unknown_object(waba_id, request.method.lower())
        if request.method == "POST":
            try:
                created = self._templates.create(waba_id, _json(request))
            except TemplateError as error:
                raise error.graph_error() from None
            return json_response(200, {"id": created.id, "status": created.status, "category": created.category})
        listed = self._templates.listing(waba_id)
        name, status = request.query.get("name"), request.query.get("status")
        listed = [t for t in listed if (not name or name in t["name"]) and (not status or t["status"] == status)]
        fields = [f for f in (request.query.get("fields") or "").split(",") if f]
        if fields:
            listed = [{k: v for k, v in t.items() if k in fields or k == "id"} for t in listed]
        return json_response(200, {"data": listed, "paging": {"cursors": {"before": "MAZDZD", "after": "MjQZD"}}})

    def _delete_media(self, media_id: str) -> Response:
        if not self._media.delete(media_id):
            raise meta.unknown_object(media_id, "delete")
        return json_response(200, {"success": True})


def _json(request: Request) -> Any:
    """A Graph request's JSON body; Meta's 100 when it is none."""
    import json

    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise GraphError(100, "the request body must be JSON") from None
