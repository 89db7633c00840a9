"""Media in memory: uploads, photos citizens send, and the short-lived download URLs Meta hands out for them."""
from __future__ import annotations

import email.parser
import email.policy
import secrets
import threading
import time
from dataclasses import dataclass

from . import meta
from .meta import GraphError

MEDIA_URL_TTL = 300.0  # Meta's media URLs expire after 5 minutes
MB = 1024 * 1024
IMAGE_TYPES = ("image/jpeg", "image/png")
# what Meta takes in an upload, and up to what size (whatsapp-provider.md section 4, S19); a sticker's limit is
# 500 KB animated, 100 KB static: the sandbox cannot tell them apart and takes the animated one's
UPLOAD_LIMITS = {
    **dict.fromkeys(IMAGE_TYPES, 5 * MB),
    **dict.fromkeys(("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"), 16 * MB),
    **dict.fromkeys(("video/mp4", "video/3gpp"), 16 * MB),
    **dict.fromkeys((
        "text/plain", "application/pdf", "application/msword", "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"), 100 * MB),
    "image/webp": 500 * 1024,
}


def size_limit(mime_type: str) -> int:
    """The largest file Meta takes of a type (parameters such as '; codecs=opus' ignored); 0 if not taken at all."""
    return UPLOAD_LIMITS.get(mime_type.split(";")[0].strip().lower(), 0)


@dataclass
class StoredMedia:
    id: str
    data: bytes
    mime_type: str
    sha256: str


class MediaStore:
    """Media by id, and the download tokens (one per URL handed out) with their expiry."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._media: dict[str, StoredMedia] = {}
        self._tokens: dict[str, tuple[str, float]] = {}  # token -> (media id, monotonic expiry)

    def store(self, data: bytes, mime_type: str) -> tuple[str, str]:
        """Keep bytes in memory under a new media id; return (media id, base64 sha256)."""
        media = StoredMedia(id=meta.new_media_id(), data=data, mime_type=mime_type, sha256=meta.sha256_b64(data))
        with self._lock:
            self._media[media.id] = media
        return media.id, media.sha256

    def upload(self, content_type: str, body: bytes) -> str:
        """Store the `file` field of a multipart upload (typed by its `type` field or part); return the media id."""
        fields = parse_multipart(content_type, body)
        if "file" not in fields:
            raise meta.missing("file")
        data, part_type = fields["file"]
        declared = fields.get("type", (b"", None))[0].decode(errors="replace").strip()
        mime_type = declared or part_type or "application/octet-stream"
        limit = size_limit(mime_type)
        if not limit:
            raise GraphError(100, f"Param file must be a file with one of the following types: "
                                  f"{', '.join(UPLOAD_LIMITS)}. Received file of type '{mime_type}'.")
        if len(data) > limit:
            raise GraphError(131053, f"The {mime_type} file is {len(data)} bytes, over Meta's limit of {limit} bytes")
        media_id, _ = self.store(data, mime_type)
        return media_id

    def get(self, media_id: str) -> StoredMedia | None:
        with self._lock:
            return self._media.get(media_id)

    def delete(self, media_id: str) -> bool:
        with self._lock:
            return self._media.pop(media_id, None) is not None

    def new_url_token(self, media_id: str) -> str:
        """A token for one download URL of the media, valid MEDIA_URL_TTL seconds."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = (media_id, time.monotonic() + MEDIA_URL_TTL)
        return token

    def download(self, media_id: str, token: str) -> StoredMedia | None:
        """The media if the token is one handed out for it and not expired; else None."""
        with self._lock:
            media_for_token, expires = self._tokens.get(token, (None, 0.0))
            media = self._media.get(media_id)
        if media is None or media_for_token != media_id or expires < time.monotonic():
            return None
        return media


def parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[bytes, str | None]]:
    """Form fields of a multipart/form-data body: name -> (bytes, part content type)."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise GraphError(100, "The upload must be multipart/form-data")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, tuple[bytes, str | None]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            has_type = part.get("Content-Type") is not None
            fields[str(name)] = (part.get_payload(decode=True) or b"", part.get_content_type() if has_type else None)
    return fields
