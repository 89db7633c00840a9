"""A citizen's photo, voice note, video or document: fetched from the provider (never more than its bound), checked by
content, kept in S3; a photo also with a copy without metadata."""
from __future__ import annotations

import time
import uuid

from chalicelib.domain import attachments, images
from chalicelib.domain.reports import Photo
from chalicelib.observability import logger
from chalicelib.providers import get_provider
from chalicelib.providers.base import ErrorClass, MediaTooLarge, ProviderError
from chalicelib.services.messaging.backoff import backoff
from chalicelib.store import media

FETCH_ATTEMPTS = 3
FETCH_BACKOFF_SECONDS = 0.5
RETRYABLE = (ErrorClass.TRANSIENT, ErrorClass.RATE_LIMITED)


def take(channel_id: str, media_id: str, tenant_id: str, report_id: str, max_bytes: int, kind: str = "image") -> Photo:
    """Fetch, check and store one photo (kind image) or file (audio, video, document). Never raises for the citizen's
    file or the provider: the result says stored, refused (with the reason), pending (to be fetched again) or failed;
    the report keeps it."""
    own_id = photo_id(channel_id, media_id)
    try:
        data = _fetch(channel_id, media_id, max_bytes)
    except MediaTooLarge as error:
        logger.info("media refused", extra={"report": report_id, "kind": kind, "reason": "too_large"})
        return Photo(id=own_id, status="refused", reason="too_large", size=error.size, kind=kind)
    except ProviderError as error:
        logger.warning("photo fetch failed", extra={"report": report_id, "kind": kind, "error": str(error)})
        # a transient failure waits for services.photo_refetch; any other will not mend with time
        status = "pending" if error.error_class in RETRYABLE else "failed"
        return Photo(id=own_id, status=status, reason=error.error_class.value, kind=kind)
    if kind != "image":
        return _keep_file(tenant_id, report_id, own_id, data, kind, max_bytes)
    try:
        checked = images.check(data, max_bytes)
    except images.RefusedImage as refused:
        logger.info("photo refused", extra={"report": report_id, "reason": refused.reason})
        return Photo(id=own_id, status="refused", reason=refused.reason, size=len(data))
    return keep(tenant_id, report_id, own_id, data, checked)


def _keep_file(tenant_id: str, report_id: str, file_id: str, data: bytes, kind: str, max_bytes: int) -> Photo:
    """A voice note, video or document: checked by its content, kept as sent (staff only, no public copy)."""
    try:
        checked = attachments.check(data, kind, max_bytes)
    except attachments.RefusedFile as refused:
        logger.info("media refused", extra={"report": report_id, "kind": kind, "reason": refused.reason})
        return Photo(id=file_id, status="refused", reason=refused.reason, size=len(data), kind=kind)
    key = media.put_file(tenant_id, report_id, file_id, data, checked)
    return Photo(id=file_id, status="stored", original_key=key, content_type=checked.content_type, size=checked.size,
                 kind=kind)


def keep(tenant_id: str, report_id: str, photo_id: str, data: bytes, checked: images.CheckedImage) -> Photo:
    """Store a checked photo: the original (staff only) and its copy without metadata (the public one)."""
    stored = media.put_photo(tenant_id, report_id, photo_id, data, images.strip_metadata(data), checked)
    return Photo(id=photo_id, status="stored", original_key=stored["original_key"], public_key=stored["public_key"],
                 content_type=checked.content_type, size=checked.size)


def photo_id(channel_id: str, media_id: str) -> str:
    """The same id for the same media on the channel: a replayed message or a re-fetch finds its photo."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{channel_id}/{media_id}").hex[:12]


def _fetch(channel_id: str, media_id: str, max_bytes: int) -> bytes:
    """The provider's bytes, retried on transient errors (media URLs expire in minutes, so retry now); MediaTooLarge
    past max_bytes."""
    for attempt in range(FETCH_ATTEMPTS):
        try:
            return get_provider().fetch_media(channel_id, media_id, max_bytes).content
        except ProviderError as error:
            if error.error_class not in RETRYABLE or attempt == FETCH_ATTEMPTS - 1:
                raise
            time.sleep(backoff(FETCH_BACKOFF_SECONDS, attempt + 1, 10.0))
    raise AssertionError("unreachable")
