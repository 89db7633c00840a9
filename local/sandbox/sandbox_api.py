"""The test API under /_sandbox/: play a citizen, read what the app sent, change settings, post raw webhooks."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from . import meta
from .channels import Channels
from .httpd import ApiError, Request, Response, json_response, parse_json, require_method
from .inbound import InboundError, Sender, build_message, parse_sender
from .media import MediaStore
from .people import People
from .recorder import Recorder
from .templates import TemplateError, Templates
from .webhooks import WebhookClient


class SandboxApi:
    """Answers /_sandbox/{name}; errors are {"error": message} with a 4xx (ApiError)."""

    def __init__(self, *, channels: Channels, templates: Templates, people: People, recorder: Recorder,
                 media: MediaStore, webhook: WebhookClient, configure: Callable[..., None],
                 settings: Callable[[], dict[str, Any]], stats: Callable[[], dict[str, Any]]):
        self._channels, self._people, self._recorder, self._media = channels, people, recorder, media
        self._templates = templates
        self._webhook, self._configure, self._settings, self._stats = webhook, configure, settings, stats

    def handle(self, request: Request) -> Response:
        name = request.path[len("/_sandbox/"):].rstrip("/")
        if name.startswith("media/"):
            require_method(request, "GET")
            return self._media_preview(name[len("media/"):])
        routes = {
            ("GET", "health"): lambda: json_response(200, {"ok": True}),
            ("GET", "channels"): lambda: json_response(200, self._channels.listing()),
            ("GET", "templates"): lambda: self._template_listing(request),
            ("POST", "templates"): lambda: self._register_templates(request),
            ("POST", "templates/review"): lambda: self._review_template(request),
            ("GET", "config"): lambda: json_response(200, self._settings()),
            ("POST", "config"): lambda: self._configure_from(request),
            ("GET", "stats"): lambda: json_response(200, self._stats()),
            ("POST", "inbound"): lambda: self._inbound(request),
            ("GET", "inbound"): lambda: self._inbound_log(request),
            ("GET", "messages"): lambda: self._messages(request),
            ("DELETE", "messages"): lambda: json_response(200, {"cleared": self._recorder.clear()}),
            ("GET", "reads"): lambda: json_response(200, self._recorder.find_reads(request.query.get("channel"))),
            ("POST", "raw"): lambda: self._raw(request),
        }
        handler = routes.get((request.method, name))
        if handler is not None:
            return handler()
        if any(path == name for _, path in routes):
            raise ApiError(405, f"method {request.method} not allowed on {request.path}")
        raise ApiError(404, f"not found: {request.method} {request.path}")

    def _configure_from(self, request: Request) -> Response:
        settings = _json_body(request)
        if not isinstance(settings, dict):
            raise ApiError(422, "the body must be a JSON object of settings")
        try:
            self._configure(**settings)
        except ValueError as error:
            raise ApiError(422, str(error)) from None
        return json_response(200, self._settings())

    def _account(self, channel_id: Any) -> str:
        """The WhatsApp Business Account of a channel named by its phone_number_id."""
        if not isinstance(channel_id, str) or not channel_id:
            raise ApiError(422, '"channel" (a phone_number_id from /_sandbox/channels) is required')
        channel = self._channels.get(channel_id)
        if channel is None:
            raise ApiError(404, f"unknown channel {channel_id!r}")
        return channel["waba_id"]

    def _template_listing(self, request: Request) -> Response:
        """GET /_sandbox/templates?channel=: the templates of the channel's business account, as Meta lists them."""
        return json_response(200, self._templates.listing(self._account(request.query.get("channel"))))

    def _register_templates(self, request: Request) -> Response:
        """POST /_sandbox/templates {"channel", "templates": [...]}: add templates to the channel's account,
        approved at once (or with the status given); 422 for one Meta would not approve, and none is added."""
        body = _json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("templates"), list):
            raise ApiError(422, 'give {"channel": <phone_number_id>, "templates": [<Meta template objects>]}')
        waba_id = self._account(body.get("channel"))
        try:
            added = self._templates.register(waba_id, body["templates"])
        except TemplateError as error:
            raise ApiError(422, str(error)) from None
        return json_response(200, [t.as_json() for t in added])

    def _review_template(self, request: Request) -> Response:
        """POST /_sandbox/templates/review {"channel", "id" (or "name" and "language"), "action": approve | reject |
        recategorise | pause | disable, "reason" (reject: INVALID_FORMAT, TAG_CONTENT_MISMATCH...), "category"
        (recategorise: UTILITY, MARKETING, AUTHENTICATION)}: Meta's review of a submitted template; the signed
        webhook (message_template_status_update or template_category_update) goes to the app as Meta posts it."""
        body = _json_body(request)
        if not isinstance(body, dict):
            raise ApiError(422, "the body must be a JSON object")
        waba_id = self._account(body.get("channel"))
        if body.get("id"):
            template = self._templates.by_id(waba_id, str(body["id"]))
        else:
            template = self._templates.find(waba_id, str(body.get("name") or ""), str(body.get("language") or "it"))
        if template is None:
            raise ApiError(404, "no such template in the channel's business account (give id, or name and language)")
        try:
            changed, field, value = self._templates.review(waba_id, template, str(body.get("action") or ""),
                                                           str(body.get("reason") or ""), str(body.get("category") or ""))
        except TemplateError as error:
            raise ApiError(422, str(error)) from None
        raw = json.dumps(meta.account_envelope(waba_id, field, value), ensure_ascii=False).encode()
        status, reason = self._webhook.post(raw)
        answer: dict[str, Any] = {"template": changed.as_json(), "webhook": {"field": field, "value": value},
                                  "webhook_status": status}
        if status is None:
            answer["error"] = f"the app webhook could not be reached: {reason}"
            return json_response(502, answer)
        return json_response(200, answer)

    def _inbound(self, request: Request) -> Response:
        """POST /_sandbox/inbound: post the app a Meta webhook as if a citizen wrote to a channel."""
        body = _json_body(request)
        if not isinstance(body, dict):
            raise ApiError(422, "the body must be a JSON object")
        channel_id = body.get("channel")
        if not isinstance(channel_id, str) or not channel_id:
            raise ApiError(422, '"channel" (a phone_number_id from /_sandbox/channels) is required')
        channel = self._channels.get(channel_id)
        if channel is None:
            raise ApiError(404, f"unknown channel {channel_id!r}")
        profile_name = body.get("profile_name")
        if profile_name is not None and not isinstance(profile_name, str):
            raise ApiError(422, '"profile_name" must be a string')
        try:
            sender = parse_sender(body)
            business_number = meta.digits_only(channel["display_phone_number"])
            message = build_message(body, sender, business_number, self._media.store)
        except InboundError as error:
            raise ApiError(422, str(error)) from None
        return self._deliver_inbound(channel, sender, message, profile_name)

    def _deliver_inbound(self, channel: dict[str, Any], sender: Sender, message: dict[str, Any],
                         profile_name: str | None) -> Response:
        name = self._people.remember([k for k in (sender.wa_id, sender.user_id) if k], profile_name)
        value = {"messaging_product": "whatsapp", "metadata": meta.metadata(channel),
                 "contacts": [meta.contact(sender.wa_id, sender.user_id, name)], "messages": [message]}
        raw = json.dumps(meta.envelope({channel["waba_id"]: [value]}), ensure_ascii=False).encode()
        status, reason = self._webhook.post(raw)
        self._recorder.inbound(channel["phone_number_id"], sender, message, status)
        answer: dict[str, Any] = {"message_id": message["id"], "webhook_status": status}
        if message["type"] in ("image", "audio", "video", "document"):
            answer["media_id"] = message[message["type"]]["id"]
        if status is None:
            answer["error"] = f"the app webhook could not be reached: {reason}"
            return json_response(502, answer)
        return json_response(200, answer)

    def _messages(self, request: Request) -> Response:
        """GET /_sandbox/messages?to=&channel=&since=: what the app sent, oldest first."""
        query = request.query
        since = _since(query)
        keys = self._people.identity(query["to"]) if query.get("to") else None
        return json_response(200, self._recorder.find_sent(keys, query.get("channel"), since))

    def _inbound_log(self, request: Request) -> Response:
        """GET /_sandbox/inbound?from=&channel=&since=: what the sandbox posted as citizens, oldest first."""
        query = request.query
        since = _since(query)
        keys = self._people.identity(query["from"]) if query.get("from") else None
        return json_response(200, self._recorder.find_inbound(keys, query.get("channel"), since))

    def _raw(self, request: Request) -> Response:
        """POST /_sandbox/raw: post the app any body, signed or not (for the app's webhook checks)."""
        body = _json_body(request)
        if not isinstance(body, dict) or ("body" not in body and "raw" not in body):
            raise ApiError(422, 'give {"body": <any JSON>, "sign": true|false} or {"raw": "<text>", "sign": ...}')
        sign = body.get("sign", True)
        if not isinstance(sign, bool):
            raise ApiError(422, '"sign" must be true or false')
        if "raw" in body:
            if not isinstance(body["raw"], str):
                raise ApiError(422, '"raw" must be a string')
            raw = body["raw"].encode()
        else:
            raw = json.dumps(body["body"], ensure_ascii=False).encode()
        status, reason = self._webhook.post(raw, sign=sign)
        if status is None:
            return json_response(502, {"webhook_status": None, "error": f"the app webhook could not be reached: {reason}"})
        return json_response(200, {"webhook_status": status})

    def _media_preview(self, media_id: str) -> Response:
        """GET /_sandbox/media/{id}: the bytes without a bearer, for the phone page."""
        media = self._media.get(media_id)
        if media is None:
            raise ApiError(404, f"unknown media {media_id!r}")
        return Response(200, media.data, media.mime_type)


def _json_body(request: Request) -> Any:
    try:
        return parse_json(request.body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(422, f"the body must be JSON: {error}") from None


def _since(query: dict[str, str]) -> int:
    try:
        return int(query.get("since") or 0)
    except ValueError:
        raise ApiError(422, '"since" must be an integer index') from None
