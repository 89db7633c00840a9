"""The provider port: normalised inbound events, outbound content and classified send errors."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, Field


class ErrorClass(str, Enum):
    """What the sender does with a failed send; one behaviour per class (DESIGN.md, Outbound)."""

    RATE_LIMITED = "rate_limited"  # back off, retry only what is unsent
    RECIPIENT_RATE_LIMITED = "recipient_rate_limited"  # too many lately to this one recipient: it waits, the rest go on
    TRANSIENT = "transient"  # retry with exponential backoff, then dead-letter
    WINDOW_CLOSED = "window_closed"  # resend as the channel's approved template
    MEDIA = "media"  # Meta could not fetch or process the media: a few quick retries, then failed for that recipient
    RECIPIENT = "recipient"  # permanent for that recipient: record, no retry
    FATAL = "fatal"  # fatal for the channel: pause and tell staff


class ProviderError(Exception):
    """A send or fetch the provider refused or could not complete, with its class."""

    def __init__(self, error_class: ErrorClass, code: int | None, message: str,
                 http_status: int | None = None, retry_after: float | None = None, ambiguous: bool = False):
        super().__init__(f"{error_class.value}: {code} {message}")
        self.error_class = error_class
        self.code = code
        self.message = message
        self.http_status = http_status
        self.retry_after = retry_after
        # the request reached the provider but its answer did not reach us (a timeout while waiting, a connection
        # closed after sending, a 200 we cannot read): it may have been sent, so a retry may be a duplicate
        self.ambiguous = ambiguous


from chalicelib.providers.webhook import NotAWebhook, WebhookSummary  # noqa: E402, F401 - light, for the endpoint

# ---- inbound -----------------------------------------------------------------------------

class Media(BaseModel):
    media_id: str
    mime_type: str | None = None  # as declared: never trusted, the content decides
    sha256: str | None = None
    caption: str | None = None
    url: str | None = None
    voice: bool = False  # an audio recorded as a voice note
    filename: str | None = None  # a document's, as the citizen's phone named it


class Location(BaseModel):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


class Reply(BaseModel):
    """A tap on a reply button, a list row or a template quick-reply button."""

    id: str
    title: str | None = None


class InboundMessage(BaseModel):
    """One message a citizen sent to one of our numbers."""

    provider: str
    channel_id: str  # the provider's id of our number (Meta: phone_number_id)
    message_id: str  # the provider's message id (Meta: wamid), the dedupe key
    timestamp: datetime
    sender_phone: str | None = None  # E.164 with '+', when the provider gives it
    sender_user_id: str | None = None  # business-scoped user id (BSUID), when given
    profile_name: str | None = None
    # media kinds: image, audio (voice notes too), video, document; unsupported: stickers, contacts, ...
    kind: Literal["text", "image", "audio", "video", "document", "location", "reply", "unsupported"]
    text: str | None = None
    media: Media | None = None
    location: Location | None = None
    reply: Reply | None = None
    context_message_id: str | None = None
    original_type: str | None = None  # the provider's type of an unsupported message


class StatusError(BaseModel):
    code: int | None = None
    title: str | None = None
    message: str | None = None
    details: str | None = None
    error_class: ErrorClass | None = None  # the provider's class for the code: FATAL stops the channel

    def refusal(self) -> ProviderError:
        """The same refusal as a send would have raised it."""
        text = ": ".join(part for part in (self.message or self.title, self.details) if part)
        return ProviderError(self.error_class or ErrorClass.RECIPIENT, self.code, text or "failed")


class Pricing(BaseModel):
    """What the provider says it charges for a message (Meta: the status's `pricing`)."""

    category: str | None = None  # marketing, utility, authentication, service, ...
    billable: bool = False  # charged: Meta's type 'regular' (free_customer_service, free_entry_point are free)


class StatusUpdate(BaseModel):
    """The provider's news about a message we sent."""

    provider: str
    channel_id: str
    message_id: str  # the id the provider gave our outbound message
    status: Literal["sent", "delivered", "read", "failed", "played"]
    timestamp: datetime
    recipient_phone: str | None = None
    recipient_user_id: str | None = None
    callback_data: str | None = None  # what we set on send (Meta: biz_opaque_callback_data)
    errors: list[StatusError] = Field(default_factory=list)
    pricing: Pricing | None = None  # on 'sent' and on one of 'delivered'/'read'


class TemplateEvent(BaseModel):
    """The provider's news about one of a business account's message templates: its review's outcome (status, with
    the reason of a rejection) or a new category."""

    provider: str
    account_id: str  # Meta: the WhatsApp Business Account id
    template_id: str
    name: str | None = None
    language: str | None = None
    status: str | None = None  # APPROVED, REJECTED, PAUSED, DISABLED, ... (a status change)
    reason: str | None = None  # why rejected (INVALID_FORMAT, TAG_CONTENT_MISMATCH...), or paused
    new_category: str | None = None  # a category change: UTILITY, MARKETING, AUTHENTICATION
    previous_category: str | None = None


class WebhookBatch(BaseModel):
    """Everything one webhook POST carried, normalised; unsupported items were logged and skipped."""

    messages: list[InboundMessage] = Field(default_factory=list)
    statuses: list[StatusUpdate] = Field(default_factory=list)
    templates: list[TemplateEvent] = Field(default_factory=list)
    skipped: int = 0


class MessageTemplate(BaseModel):
    """A message template as the provider holds it (Meta: GET /{waba_id}/message_templates): components in Meta's
    shape (HEADER, BODY, FOOTER, BUTTONS)."""

    id: str
    name: str
    language: str
    status: str
    category: str
    components: list[dict] = Field(default_factory=list)
    rejected_reason: str | None = None
    previous_category: str | None = None


# ---- outbound ----------------------------------------------------------------------------

class Recipient(BaseModel):
    phone: str | None = None  # E.164 with '+'
    user_id: str | None = None  # BSUID, used when no phone is known


class Text(BaseModel):
    kind: Literal["text"] = "text"
    body: str
    preview_url: bool = False


class Template(BaseModel):
    kind: Literal["template"] = "template"
    name: str
    language: str = "it"
    body_params: list[str] = Field(default_factory=list)
    header_image_link: str | None = None
    button_payloads: list[str] = Field(default_factory=list)  # quick-reply payloads, by index


class Image(BaseModel):
    kind: Literal["image"] = "image"
    link: str | None = None
    media_id: str | None = None
    caption: str | None = None


class Choice(BaseModel):
    id: str
    title: str
    description: str | None = None


class Buttons(BaseModel):
    """Up to three reply buttons under a text."""

    kind: Literal["buttons"] = "buttons"
    body: str
    buttons: list[Choice]
    footer: str | None = None


class ChoiceList(BaseModel):
    """An interactive list: a button that opens one section of rows (up to ten)."""

    kind: Literal["list"] = "list"
    body: str
    button: str
    rows: list[Choice]
    section_title: str | None = None
    footer: str | None = None


Content = Annotated[Text | Template | Image | Buttons | ChoiceList, Field(discriminator="kind")]


class MediaFile(BaseModel):
    content: bytes
    mime_type: str | None = None


class MediaTooLarge(Exception):
    """A media file larger than the caller takes: refused before (or while) it is downloaded, never read whole."""

    def __init__(self, size: int | None, max_bytes: int):
        super().__init__(f"media of {size if size is not None else 'more than ' + str(max_bytes)} bytes, "
                         f"at most {max_bytes}")
        self.size, self.max_bytes = size, max_bytes


class Provider(Protocol):
    """What the app needs of a WhatsApp provider."""

    name: str

    def verify_challenge(self, params: Mapping[str, str]) -> str | None:
        """The body to answer a subscription handshake with, or None to refuse it."""

    def verify_signature(self, raw_body: bytes, headers: Mapping[str, str]) -> bool:
        """True when the webhook body is signed by the provider."""

    def check_webhook(self, raw_body: bytes) -> WebhookSummary:
        """A verified webhook body checked as far as queueing it needs, without the wire models (the endpoint's
        work: issue 18); raises NotAWebhook for what parse_webhook would refuse as not a webhook."""

    def parse_webhook(self, raw_body: bytes) -> WebhookBatch:
        """Normalise a verified webhook body; raises NotAWebhook for anything else."""

    def webhook_parts(self, raw_body: bytes, max_bytes: int) -> list[str]:
        """A body parse_webhook read, as webhook bodies of at most max_bytes each (the body itself when it fits)."""

    def send(self, channel_id: str, recipient: Recipient, content: Content,
             callback_data: str | None = None) -> str:
        """Send one message; returns the provider's message id or raises ProviderError."""

    def mark_read(self, channel_id: str, message_id: str) -> None:
        """Mark an inbound message as read (blue ticks)."""

    def fetch_media(self, channel_id: str, media_id: str, max_bytes: int | None = None) -> MediaFile:
        """Download an inbound media file; raises ProviderError, or MediaTooLarge past max_bytes."""

    def submit_template(self, account_id: str, definition: dict) -> MessageTemplate:
        """Submit a new template (Meta's creation body) for review; what the provider holds now (PENDING), or
        ProviderError with the provider's reason."""

    def list_templates(self, account_id: str) -> list[MessageTemplate]:
        """Every template of the business account, with its status, category and rejection reason."""
