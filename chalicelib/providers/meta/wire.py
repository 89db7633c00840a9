"""Meta's JSON as pydantic models: the webhook payload (the parts we read) and the Graph API's answers."""

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    GetCoreSchemaHandler,
    PlainValidator,
    StringConstraints,
    Tag,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import CoreSchema, core_schema

from chalicelib.domain.phones import USER_ID_PATTERN

T = TypeVar("T")
W = TypeVar("W", bound="Wire")


class Wire(BaseModel):
    """A part of Meta's JSON: exact JSON types only ("1" is no number); fields we do not read are ignored."""

    # defer_build: a model's validator is built when first used (the webhook's take about 10 ms), so a Lambda
    # that only sends never builds them
    model_config = ConfigDict(strict=True, extra="ignore", defer_build=True)


def read(model: type[W], raw: bytes) -> W | None:
    """The raw JSON as `model`, or None when it is not JSON or not that model."""
    try:
        return model.model_validate(json.loads(raw))
    except (ValueError, TypeError, RecursionError):  # a ValidationError is a ValueError
        return None


# ---- field types -------------------------------------------------------------------------

_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")


def _utf8(text: str) -> str:
    text.encode("utf-8")  # a lone surrogate raises UnicodeEncodeError, a ValueError: DynamoDB stores UTF-8 only
    return text


def _unix_time(value: object) -> datetime:
    """Unix seconds, a string of digits as Meta sends them or a JSON integer, as a UTC datetime."""
    if isinstance(value, str) and _UNIX_SECONDS.fullmatch(value):
        value = int(value)
    if type(value) is not int:  # so not a bool, a float or any other string
        raise ValueError("not Unix seconds")
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError) as error:  # beyond the dates the platform can represent
        raise ValueError("not a representable date") from error


def _none_if_invalid(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError:
        return None


Str = Annotated[str, AfterValidator(_utf8)]
Id = Annotated[Str, StringConstraints(min_length=1)]


def Bounded(most: int) -> Any:  # noqa: N802 - a type, named like one
    """A string of at most `most` characters: every text Meta gives has a bound, and ours is at least its own."""
    return Annotated[Str, StringConstraints(max_length=most)]


# ---- provider ids: each bounded to the form Meta documents, or stricter ------------------
# An id past its bound is no id Meta gives. Keys, job ids and URLs are built from them (a DynamoDB sort key holds
# 1,024 bytes, a partition key 2,048): a 3,000-character BSUID once failed the citizen's write after the reply had
# gone (issue 13). A required id that does not fit makes its item unreadable (skipped); an optional one reads as None.
# A wamid: "wamid." and base64, about 60 characters. Printable ASCII without spaces, and never "|", which joins a job
# and its recipient in callback data.
MessageId = Annotated[str, StringConstraints(pattern=r"^[!-{}~]{1,256}$")]
# A phone number id (our channel: 15-16 digits) is a partition key, and part of the citizens' keys.
PhoneNumberId = Annotated[str, StringConstraints(pattern=r"^[!-{}~]{1,64}$")]
# A wa_id: the citizen's number in digits (E.164 has at most 15).
WaId = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,20}$")]
# A BSUID (domain.phones: a country code, a dot and up to 128 characters); the citizen key is built from it.
UserId = Annotated[str, StringConstraints(pattern=f"^{USER_ID_PATTERN}$")]
# A media id: digits at Meta; it becomes a path segment of a Graph URL, so nothing that could leave the segment.
MediaId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,128}$")]
# The id of a reply button or list row we sent (Meta: at most 256 and 200 characters), or a template button's payload.
ReplyId = Annotated[Str, StringConstraints(min_length=1, max_length=256)]
# What we set as biz_opaque_callback_data (Meta takes at most 512 characters).
CallbackData = Bounded(512)
UnixTime = Annotated[datetime, PlainValidator(_unix_time)]
# An optional field: absent, null or not of its type, it reads as None, so one odd field never costs the message.
Maybe = Annotated[T | None, WrapValidator(_none_if_invalid)]
# A point on Earth (so no NaN, no infinity): anything else would break every distance check of the comune.
Latitude = Annotated[float, Field(ge=-90.0, le=90.0)]
Longitude = Annotated[float, Field(ge=-180.0, le=180.0)]


# ---- what is there but unreadable --------------------------------------------------------

@dataclass(frozen=True)
class Unreadable:
    """A value that is not what Meta documents: a list item is skipped and counted (the rest is read), an id matches
    nothing."""

    where: str  # the fields that failed and why, e.g. "text.body (string_type)"; never their values

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.is_instance_schema(cls)  # made by _unreadable_if_invalid, never read from the payload


def _where(error: ValidationError) -> str:
    failures = error.errors(include_url=False, include_context=False, include_input=False)
    return "; ".join(f"{'.'.join(map(str, f['loc'])) or '.'} ({f['type']})" for f in failures[:3])


def _unreadable_if_invalid(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError as error:
        return Unreadable(_where(error))


# A value read as T, or as Unreadable when it is not one.
OrUnreadable = Annotated[T, WrapValidator(_unreadable_if_invalid)] | Unreadable


def _listed(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """A messages[] or statuses[]: absent or null is empty; anything but a list is one unreadable item."""
    if value is None:
        return []
    if not isinstance(value, list):
        return [Unreadable("not a list")]
    return handler(value)


# ---- webhook: the parts of a message -----------------------------------------------------

class Profile(Wire):
    name: Bounded(256) | None = None  # WhatsApp shows at most 25 characters


class Contact(Wire):
    """contacts[]: who wrote, matched to a message by its ids. An id we cannot read is still there, and differs from
    any id a message gives."""

    wa_id: OrUnreadable[WaId | None] = None
    user_id: OrUnreadable[UserId | None] = None  # the business-scoped user id (BSUID)
    profile: Maybe[Profile] = None


class Context(Wire):
    id: MessageId | None = None  # the message replied to, or whose button was tapped


class TextBody(Wire):
    body: Str


class ImageBody(Wire):
    id: MediaId
    mime_type: Maybe[Bounded(255)] = None
    sha256: Maybe[Bounded(128)] = None  # base64 of 32 bytes: 44 characters
    caption: Maybe[Bounded(4096)] = None  # Meta: at most 1,024 characters
    url: Maybe[Bounded(2048)] = None


class AudioBody(ImageBody):
    """A voice note (voice true) or an audio file; no caption."""

    voice: Maybe[bool] = None


class VideoBody(ImageBody):
    pass


class DocumentBody(ImageBody):
    filename: Maybe[Str] = None


class Place(Wire):
    latitude: Latitude
    longitude: Longitude
    name: Maybe[Bounded(1000)] = None
    address: Maybe[Bounded(1000)] = None


class Tap(Wire):
    """The reply button or list row a citizen tapped."""

    id: ReplyId
    title: Maybe[Bounded(256)] = None  # Meta: at most 20 (button) or 24 (row) characters


class ButtonReply(Wire):
    type: Literal["button_reply"]
    button_reply: Tap


class ListReply(Wire):
    type: Literal["list_reply"]
    list_reply: Tap


class QuickReply(Wire):
    """A template's quick-reply button: our payload and the button's text."""

    payload: ReplyId
    text: Maybe[Bounded(256)] = None


# ---- webhook: messages, one model per type we read ---------------------------------------

class BaseMessage(Wire):
    """What every message a citizen sent carries."""

    id: MessageId  # the wamid, the dedupe key
    type: Str
    timestamp: UnixTime
    from_: Maybe[WaId] = Field(None, alias="from")  # the wa_id: digits, when Meta gives the number
    from_user_id: Maybe[UserId] = None  # the BSUID
    context: Maybe[Context] = None


class TextMessage(BaseMessage):
    text: TextBody


class ImageMessage(BaseMessage):
    image: ImageBody


class AudioMessage(BaseMessage):
    audio: AudioBody


class VideoMessage(BaseMessage):
    video: VideoBody


class DocumentMessage(BaseMessage):
    document: DocumentBody


class LocationMessage(BaseMessage):
    location: Place


class InteractiveMessage(BaseMessage):
    interactive: Annotated[ButtonReply | ListReply, Field(discriminator="type")]


class ButtonMessage(BaseMessage):
    button: QuickReply


class UnsupportedMessage(BaseMessage):
    """Stickers, contacts, orders and types yet to come: the citizen is told."""

    type: Id


class SilentMessage(Wire):
    """Reactions, edits, revocations, system notices: nothing a citizen said to us, so nothing to answer."""

    type: Str


_READ_TYPES = frozenset({"text", "image", "audio", "video", "document", "location", "interactive", "button"})
_SILENT_TYPES = frozenset({"reaction", "system", "request_welcome", "ephemeral", "errors", "edit", "revoke"})


def _message_tag(value: Any) -> str | None:
    """The model of a messages[] item, by its type; None (unreadable) for a type that is not a string."""
    kind = value.get("type") if isinstance(value, dict) else None
    if not isinstance(kind, str):
        return None
    if kind in _READ_TYPES:
        return kind
    return "silent" if kind in _SILENT_TYPES else "unsupported"


Message = Annotated[
    Annotated[TextMessage, Tag("text")] | Annotated[ImageMessage, Tag("image")]
    | Annotated[AudioMessage, Tag("audio")] | Annotated[VideoMessage, Tag("video")]
    | Annotated[DocumentMessage, Tag("document")]
    | Annotated[LocationMessage, Tag("location")] | Annotated[InteractiveMessage, Tag("interactive")]
    | Annotated[ButtonMessage, Tag("button")] | Annotated[UnsupportedMessage, Tag("unsupported")]
    | Annotated[SilentMessage, Tag("silent")],
    Discriminator(_message_tag),
]


# ---- webhook: statuses, errors and the envelope ------------------------------------------

class FailureData(Wire):
    details: Bounded(1024) | None = None


class Failure(Wire):
    """An error as Meta reports it: in statuses[].errors, in value.errors and in a Graph API answer."""

    code: Maybe[int] = None
    title: Maybe[Bounded(1024)] = None
    message: Maybe[Bounded(1024)] = None
    error_data: Maybe[FailureData] = None


class Pricing(Wire):
    """How Meta prices a message we sent (per-message pricing since 1 July 2025): on its 'sent' status and on one
    of 'delivered' or 'read'. `type` regular is charged; free_customer_service and free_entry_point are not."""

    billable: Maybe[bool] = None  # slated for deprecation by Meta: `type` says the same
    pricing_model: Maybe[Bounded(16)] = None  # PMP (CBP only before July 2025)
    type: Maybe[Bounded(64)] = None
    category: Maybe[Bounded(64)] = None  # marketing, utility, authentication, service, ...


class Status(Wire):
    """Meta's news about a message we sent."""

    id: MessageId  # the wamid Meta gave our message
    status: Literal["sent", "delivered", "read", "failed", "played"]
    timestamp: UnixTime
    recipient_id: Maybe[Bounded(128)] = None  # a wa_id, or a group's id
    recipient_user_id: Maybe[UserId] = None
    biz_opaque_callback_data: Maybe[CallbackData] = None
    errors: Maybe[list[Maybe[Failure]]] = None
    pricing: Maybe[Pricing] = None


class Metadata(Wire):
    phone_number_id: PhoneNumberId  # our number: the channel


class Value(Wire):
    metadata: Metadata
    contacts: Maybe[list[Maybe[Contact]]] = None
    messages: Annotated[list[OrUnreadable[Message]], WrapValidator(_listed)] = []
    statuses: Annotated[list[OrUnreadable[Status]], WrapValidator(_listed)] = []
    errors: Maybe[list[Maybe[Failure]]] = None  # account-level errors, e.g. an asynchronous 130429


class MessagesChange(Wire):
    field: Literal["messages"]
    value: Value


class TemplateValue(Wire):
    """message_template_status_update and template_category_update: which template (its id a number at Meta)."""

    message_template_id: int | Annotated[str, StringConstraints(pattern=r"^[0-9]{1,32}$")]
    message_template_name: Maybe[Bounded(512)] = None
    message_template_language: Maybe[Bounded(15)] = None
    event: Maybe[Bounded(40)] = None  # APPROVED, REJECTED, PAUSED, DISABLED, PENDING_DELETION, ...
    reason: Maybe[Bounded(200)] = None  # a rejection's (INVALID_FORMAT...), "NONE" or null otherwise
    new_category: Maybe[Bounded(40)] = None
    previous_category: Maybe[Bounded(40)] = None


class TemplateStatusChange(Wire):
    field: Literal["message_template_status_update"]
    value: TemplateValue


class TemplateCategoryChange(Wire):
    field: Literal["template_category_update"]
    value: TemplateValue


class OtherChange(Wire):
    """A change of a field we do not subscribe to for messages (templates, account, preferences...)."""

    field: Maybe[Str] = None


from chalicelib.providers.meta.envelope import READ_FIELDS  # noqa: E402 - the fields a change is read for


def _change_tag(value: Any) -> str:
    field = value.get("field") if isinstance(value, dict) else None
    return field if field in READ_FIELDS else "other"


Change = Annotated[
    Annotated[MessagesChange, Tag("messages")] | Annotated[OtherChange, Tag("other")]
    | Annotated[TemplateStatusChange, Tag("message_template_status_update")]
    | Annotated[TemplateCategoryChange, Tag("template_category_update")],
    Discriminator(_change_tag),
]


class Entry(Wire):
    id: Maybe[Annotated[str, StringConstraints(pattern=r"^[0-9]{1,32}$")]] = None  # the business account
    changes: list[OrUnreadable[Change]]


class Envelope(Wire):
    """A webhook POST: anything else is not a WhatsApp webhook."""

    object: Literal["whatsapp_business_account"]
    entry: list[OrUnreadable[Entry]]


# ---- Graph API answers -------------------------------------------------------------------

class SentId(Wire):
    id: Id


class Accepted(Wire):
    """The answer to a send: the first of messages[] is ours (one recipient per send)."""

    messages: Annotated[list[Maybe[SentId]], Field(min_length=1)]


class MediaInfo(Wire):
    """The answer to a media id: where to download the file, its type and size."""

    url: Id
    mime_type: Maybe[Str] = None
    file_size: Maybe[int] = None


class HeldTemplate(Wire):
    """One template of GET /{waba_id}/message_templates."""

    id: Id
    name: Bounded(512)
    language: Bounded(15)
    status: Bounded(40)
    category: Bounded(40)
    components: Maybe[list[dict[str, Any]]] = None
    rejected_reason: Maybe[Bounded(200)] = None
    previous_category: Maybe[Bounded(40)] = None


class TemplatePage(Wire):
    data: list[OrUnreadable[HeldTemplate]]
    paging: Maybe[dict[str, Any]] = None


class CreatedTemplate(Wire):
    """The answer to POST /{waba_id}/message_templates."""

    id: Id
    status: Bounded(40)
    category: Bounded(40)


class Refusal(Wire):
    """The body of a Graph API error answer."""

    error: Maybe[Failure] = None
