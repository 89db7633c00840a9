"""MetaProvider: the provider port (base.Provider) over Meta's webhooks and its Graph API."""
from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.providers.meta import envelope
from chalicelib.providers.webhook import WebhookSummary

if TYPE_CHECKING:
    from chalicelib.providers.base import Content, MediaFile, MessageTemplate, Recipient, WebhookBatch
    from chalicelib.providers.meta.client import GraphClient


class MetaProvider:
    """WhatsApp through Meta's Cloud API (Graph API). What the webhook endpoint uses (handshake, signature, envelope)
    needs only envelope.py; the wire models, the bodies and the Graph client are imported on their first use."""

    name = envelope.PROVIDER_NAME

    def __init__(self, app_secret: str, verify_token: str, access_token: str,
                 graph_url: str = "https://graph.facebook.com", graph_version: str = "v25.0",
                 timeout: float = 10.0):
        self._app_secret = app_secret
        self._verify_token = verify_token
        self._access_token, self._graph_base, self._timeout = (
            access_token, f"{graph_url.rstrip('/')}/{graph_version}", timeout)

    @cached_property
    def _graph(self) -> GraphClient:
        from chalicelib.providers.meta.client import GraphClient

        return GraphClient(self._access_token, self._graph_base, self._timeout)

    def verify_challenge(self, params: Mapping[str, str] | None) -> str | None:
        return envelope.challenge_answer(params, self._verify_token)

    def verify_signature(self, raw_body: bytes, headers: Mapping[str, str]) -> bool:
        return envelope.is_signed(raw_body, headers, self._app_secret)

    def check_webhook(self, raw_body: bytes) -> WebhookSummary:
        return envelope.check(raw_body)

    def parse_webhook(self, raw_body: bytes) -> WebhookBatch:
        from chalicelib.providers.meta import inbound

        return inbound.parse(raw_body)

    def webhook_parts(self, raw_body: bytes, max_bytes: int) -> list[str]:
        from chalicelib.providers.meta import parts

        return parts.webhook_parts(raw_body, max_bytes)

    def send(self, channel_id: str, recipient: Recipient, content: Content,
             callback_data: str | None = None) -> str:
        from chalicelib.providers.meta import outbound

        return self._graph.send_message(channel_id, outbound.message_body(recipient, content, callback_data))

    def mark_read(self, channel_id: str, message_id: str) -> None:
        from chalicelib.providers.meta import outbound

        self._graph.mark_read(channel_id, outbound.read_receipt(message_id))

    def fetch_media(self, channel_id: str, media_id: str, max_bytes: int | None = None) -> MediaFile:
        return self._graph.fetch_media(channel_id, media_id, max_bytes)

    def submit_template(self, account_id: str, definition: dict) -> MessageTemplate:
        from chalicelib.providers.base import MessageTemplate

        created = self._graph.submit_template(account_id, definition)
        components = definition.get("components") or []
        return MessageTemplate(id=created.id, name=definition["name"], language=definition["language"],
                               status=created.status, category=created.category,
                               components=[{k: v for k, v in c.items() if k != "example"} for c in components])

    def list_templates(self, account_id: str) -> list[MessageTemplate]:
        from chalicelib.providers.base import MessageTemplate

        return [MessageTemplate(id=t.id, name=t.name, language=t.language, status=t.status, category=t.category,
                                components=t.components or [], rejected_reason=t.rejected_reason,
                                previous_category=t.previous_category)
                for t in self._graph.templates(account_id)]
