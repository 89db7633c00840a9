"""Vicinato's photos: an ID document when joining, a photo the coordinator asked for. Fetched from the provider
(bounded), checked as an image by its content, stored encrypted in the Vicinato folder of the media bucket; seen
only through short-lived links (the police in the console, the coordinator on WhatsApp)."""
from __future__ import annotations

import hashlib
from typing import Any

from chalicelib.domain import images
from chalicelib.domain.tenancy import Channel
from chalicelib.observability import logger
from chalicelib.providers.base import MediaTooLarge, ProviderError
from chalicelib.services.reports.photos import _fetch, photo_id
from chalicelib.store import media

LINK_MINUTES = 30  # a coordinator's link on WhatsApp: long enough to open it, short enough not to be passed on
STAFF_LINK_SECONDS = 300


def person_folder(member_key: str) -> str:
    """A person's folder name: a hash of their key (no number in a key of the bucket)."""
    return hashlib.sha256(member_key.encode()).hexdigest()[:32]


def take(channel: Channel, media_id: str, tenant_id: str, folder: str, owner: str) -> dict[str, Any]:
    """{id, key, content_type, size} of the stored photo, or {} when it could not be fetched or is no image."""
    max_bytes = channel.settings.photo_max_bytes
    own_id = photo_id(channel.phone_number_id, media_id)
    try:
        data = _fetch(channel.phone_number_id, media_id, max_bytes)
        checked = images.check(data, max_bytes)
    except (MediaTooLarge, ProviderError, images.RefusedImage) as error:
        logger.info("vicinato photo refused", extra={"reason": type(error).__name__})
        return {}
    return keep(tenant_id, folder, owner, own_id, data, checked)


def keep(tenant_id: str, folder: str, owner: str, own_id: str, data: bytes, checked: images.CheckedImage) -> dict[str, Any]:
    """Store a photo already checked as an image (from WhatsApp or the portal's form), encrypted, in the Vicinato
    folder: {id, key, content_type, size}."""
    key = media.vicinato_key(tenant_id, folder, owner, own_id, checked.extension)
    media.put_vicinato(key, data, checked.content_type)
    return {"id": own_id, "key": key, "content_type": checked.content_type, "size": checked.size}


def link(key: str, seconds: int = LINK_MINUTES * 60) -> str:
    return media.presigned_url(key, seconds)
