"""Turns a test-API inbound request into the `messages[]` item of a real Meta webhook."""
from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .meta import digits_only, looks_like_phone, new_wamid, unix_seconds
from .validation import TEXT_MAX

IMAGE_MAX_BYTES = 5 * 1024 * 1024
# What WhatsApp lets a citizen send, per kind (reference whatsapp-provider.md, "Supported types and size limits"):
# audio and video up to 16 MB; documents of any type up to 100 MB (past that Meta's webhook carries error 131052).
MEDIA_LIMITS = {"audio": ("audio/", 16 * 1024 * 1024), "video": ("video/", 16 * 1024 * 1024),
                "document": ("", 100 * 1024 * 1024)}
_USER_ID_RE = re.compile(r"^[A-Za-z]{2}\.[A-Za-z0-9.]{1,128}$")  # a country code, a dot, up to 128 (Meta, 2026)
_DATA_URL_RE = re.compile(r"^data:([\w.+-]+/[\w.+-]+);base64,", re.IGNORECASE)

# store_media(data, mime_type) -> (media_id, sha256 base64)
StoreMedia = Callable[[bytes, str], tuple[str, str]]


class InboundError(ValueError):
    """The test-API request cannot become a webhook message (HTTP 422)."""


@dataclass
class Sender:
    wa_id: str | None  # digits, no "+"
    user_id: str | None  # BSUID

    @property
    def phone(self) -> str | None:
        return f"+{self.wa_id}" if self.wa_id else None


def parse_sender(request: dict[str, Any]) -> Sender:
    raw_from, user_id = request.get("from"), request.get("user_id")
    if raw_from in (None, "") and user_id in (None, ""):
        raise InboundError('give "from" (a phone number) or "user_id" (a business-scoped id)')
    wa_id = None
    if raw_from not in (None, ""):
        if not isinstance(raw_from, str) or not looks_like_phone(raw_from):
            raise InboundError(f'"from" is not a phone number: {raw_from!r}')
        wa_id = digits_only(raw_from)
        if not 8 <= len(wa_id) <= 15:
            raise InboundError(f'"from" must have 8 to 15 digits with the country code: {raw_from!r}')
    if user_id not in (None, ""):
        if not isinstance(user_id, str) or not _USER_ID_RE.match(user_id):
            raise InboundError(f'"user_id" must look like "IT.1234abcd": {user_id!r}')
    return Sender(wa_id=wa_id, user_id=user_id or None)


def build_message(request: dict[str, Any], sender: Sender, business_number: str,
                  store_media: StoreMedia) -> dict[str, Any]:
    """The messages[] item: from/from_user_id, id, timestamp, type and the type's object."""
    kind = request.get("type", "text")
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise InboundError(f"type must be one of {', '.join(_BUILDERS)}, got {kind!r}")
    message: dict[str, Any] = {}
    context = request.get("context")
    if context not in (None, ""):
        if not isinstance(context, str):
            raise InboundError('"context" must be the wamid of the business message replied to')
        message["context"] = {"from": business_number, "id": context}
    if sender.wa_id:
        message["from"] = sender.wa_id
    if sender.user_id:
        message["from_user_id"] = sender.user_id
    message.update({"id": new_wamid(), "timestamp": unix_seconds()})
    message.update(builder(request, store_media))
    return message


def _text(request: dict[str, Any], _: StoreMedia) -> dict[str, Any]:
    text = _string(request, "text", required=True)
    if len(text) > TEXT_MAX:
        raise InboundError(f"text is longer than {TEXT_MAX} characters")
    return {"type": "text", "text": {"body": text}}


def _decoded(request: dict[str, Any], kind: str, default_type: str, family: str, max_bytes: int) -> tuple[bytes, str]:
    """The bytes and mime type of {kind}_base64 (plain base64 or a FileReader data URL), checked as WhatsApp would."""
    encoded = _string(request, f"{kind}_base64", required=True)
    mime_type = _string(request, "mime_type") or default_type
    match = _DATA_URL_RE.match(encoded)
    if match:  # a FileReader data URL from the phone page
        mime_type, encoded = match.group(1).lower(), encoded[match.end():]
    if not mime_type.startswith(family):
        raise InboundError(f"mime_type must be an {family.rstrip('/')} type, got {mime_type!r}")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise InboundError(f"{kind}_base64 is not valid base64: {error}") from None
    if not data:
        raise InboundError(f"{kind}_base64 is empty")
    if len(data) > max_bytes:
        raise InboundError(f"the {kind} is larger than {max_bytes} bytes")
    return data, mime_type


def _image(request: dict[str, Any], store_media: StoreMedia) -> dict[str, Any]:
    data, mime_type = _decoded(request, "image", "image/jpeg", "image/", IMAGE_MAX_BYTES)
    media_id, digest = store_media(data, mime_type)
    image = {"mime_type": mime_type, "sha256": digest, "id": media_id}
    caption = _string(request, "caption")
    if caption:
        image["caption"] = caption
    return {"type": "image", "image": image}


def _location(request: dict[str, Any], _: StoreMedia) -> dict[str, Any]:
    latitude = _number(request, "latitude", 90.0)
    longitude = _number(request, "longitude", 180.0)
    location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    for key in ("name", "address"):
        value = _string(request, key)
        if value:
            location[key] = value
    return {"type": "location", "location": location}


def _button(request: dict[str, Any], _: StoreMedia) -> dict[str, Any]:
    reply = {"id": _string(request, "id", required=True), "title": _string(request, "title", required=True)}
    return {"type": "interactive", "interactive": {"type": "button_reply", "button_reply": reply}}


def _list(request: dict[str, Any], _: StoreMedia) -> dict[str, Any]:
    reply = {"id": _string(request, "id", required=True), "title": _string(request, "title", required=True)}
    description = _string(request, "description")
    if description:
        reply["description"] = description
    return {"type": "interactive", "interactive": {"type": "list_reply", "list_reply": reply}}


def _quick_reply(request: dict[str, Any], _: StoreMedia) -> dict[str, Any]:
    payload = _string(request, "id", required=True)
    text = _string(request, "title") or payload
    return {"type": "button", "button": {"payload": payload, "text": text}}


def _audio(request: dict[str, Any], store_media: StoreMedia) -> dict[str, Any]:
    """An audio file (audio_base64, mime_type), or without one a short voice note as WhatsApp records it (Ogg Opus).
    voice: true for a voice note (the default for Ogg Opus, as phones record them)."""
    if request.get("audio_base64") in (None, ""):
        data, mime_type = voice_note(), "audio/ogg; codecs=opus"
    else:
        data, mime_type = _decoded(request, "audio", "audio/ogg; codecs=opus", "audio/", MEDIA_LIMITS["audio"][1])
    voice = request.get("voice", mime_type.startswith("audio/ogg"))
    if not isinstance(voice, bool):
        raise InboundError('"voice" must be true or false')
    media_id, digest = store_media(data, mime_type)
    return {"type": "audio", "audio": {"mime_type": mime_type, "sha256": digest, "id": media_id, "voice": voice}}


def _video(request: dict[str, Any], store_media: StoreMedia) -> dict[str, Any]:
    data, mime_type = _decoded(request, "video", "video/mp4", "video/", MEDIA_LIMITS["video"][1])
    media_id, digest = store_media(data, mime_type)
    video = {"mime_type": mime_type, "sha256": digest, "id": media_id}
    caption = _string(request, "caption")
    if caption:
        video["caption"] = caption
    return {"type": "video", "video": video}


def _document(request: dict[str, Any], store_media: StoreMedia) -> dict[str, Any]:
    """Any file a phone shares as a document (WhatsApp does not limit the type), with its file name."""
    data, mime_type = _decoded(request, "document", "application/pdf", "", MEDIA_LIMITS["document"][1])
    media_id, digest = store_media(data, mime_type)
    document = {"mime_type": mime_type, "sha256": digest, "id": media_id,
                "filename": _string(request, "filename") or "documento"}
    caption = _string(request, "caption")
    if caption:
        document["caption"] = caption
    return {"type": "document", "document": document}


SILENT_FRAME = b"\xf8\xff\xfe"  # an Opus packet: one 20 ms CELT frame of silence (mono, 48 kHz)


def voice_note(seconds: int = 1) -> bytes:
    """A valid Ogg Opus stream of silence, seconds long: the identification and comment headers, then the audio,
    as a phone's voice note is; the app's content check sees a real one and a browser plays it."""
    pre_skip = 312
    head = b"OpusHead" + bytes([1, 1]) + pre_skip.to_bytes(2, "little") + (48000).to_bytes(4, "little") + bytes(3)
    tags = b"OpusTags" + (7).to_bytes(4, "little") + b"sandbox" + bytes(4)
    frames = [SILENT_FRAME] * (50 * seconds)  # 50 frames of 20 ms a second, under 255 packets a page for 5 s
    return (_ogg_page([head], 0, 0x02, 0) + _ogg_page([tags], 1, 0x00, 0)
            + _ogg_page(frames, 2, 0x04, pre_skip + 48000 * seconds))


def _ogg_page(packets: list[bytes], sequence: int, flags: int, granule: int) -> bytes:
    """One Ogg page holding whole packets (each under 255 bytes, at most 255), with its CRC (RFC 3533)."""
    header = (b"OggS" + bytes([0, flags]) + granule.to_bytes(8, "little") + (0x5A4E4442).to_bytes(4, "little")
              + sequence.to_bytes(4, "little") + bytes(4) + bytes([len(packets)]) + bytes(len(p) for p in packets))
    page = header + b"".join(packets)
    return page[:22] + _ogg_crc(page).to_bytes(4, "little") + page[26:]


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc


def _sticker(request: dict[str, Any], store_media: StoreMedia) -> dict[str, Any]:
    media_id, digest = store_media(b"RIFF\x00\x00\x00\x00WEBPVP8 sandbox sticker", "image/webp")
    return {"type": "sticker", "sticker": {"mime_type": "image/webp", "sha256": digest, "id": media_id,
                                           "animated": False}}


_BUILDERS: dict[str, Callable[[dict[str, Any], StoreMedia], dict[str, Any]]] = {
    "audio": _audio,
    "video": _video,
    "document": _document,
    "sticker": _sticker,
    "text": _text,
    "image": _image,
    "location": _location,
    "button": _button,
    "list": _list,
    "quick_reply": _quick_reply,
}


def _string(request: dict[str, Any], key: str, required: bool = False) -> str:
    value = request.get(key)
    if value is None or value == "":
        if required:
            raise InboundError(f'"{key}" is required')
        return ""
    if not isinstance(value, str):
        raise InboundError(f'"{key}" must be a string')
    return value


def _number(request: dict[str, Any], key: str, bound: float) -> float:
    value = request.get(key)
    if isinstance(value, str):
        try:
            value = float(value.replace(",", "."))
        except ValueError:
            raise InboundError(f'"{key}" must be a number') from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InboundError(f'"{key}" must be a number')
    if abs(value) > bound:
        raise InboundError(f'"{key}" must be between -{bound:g} and {bound:g}')
    return float(value)


def readable(message: dict[str, Any]) -> str:
    """A short rendering of an inbound message for the test API and the phone page."""
    kind = message.get("type")
    if kind == "text":
        return message["text"]["body"]
    if kind == "image":
        return f"[image] {message['image'].get('caption', '')}".strip()
    if kind == "audio":
        return "[voice note]" if message["audio"].get("voice") else "[audio]"
    if kind in ("video", "document"):
        item = message[kind]
        return f"[{kind}] {item.get('filename', '')} {item.get('caption', '')}".replace("  ", " ").strip()
    if kind == "location":
        loc = message["location"]
        label = " ".join(str(loc[k]) for k in ("name", "address") if loc.get(k))
        return f"[location {loc['latitude']}, {loc['longitude']}] {label}".strip()
    if kind == "interactive":
        reply = message["interactive"].get("button_reply") or message["interactive"].get("list_reply") or {}
        return f"[{reply.get('title')}]"
    if kind == "button":
        return f"[{message['button'].get('text')}]"
    return f"[{kind}]"
