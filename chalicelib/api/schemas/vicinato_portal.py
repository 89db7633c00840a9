"""The portal's «Controllo del Vicinato» page: its set-up (zones by id and name) and the request's answer. Nothing
personal is in either."""
from __future__ import annotations

from typing import Literal

from chalicelib.api.schemas.common import Answer, Named


class VicinatoPortal(Answer):
    """Whether the comune takes requests from the portal, whether an ID photo is needed, the zones."""

    open: bool
    id_required: bool
    zones: list[Named]
    privacy_notice_url: str | None
    privacy_notice_version: str | None
    confirm_hours: int


class VicinatoRequested(Answer):
    """The confirmation went to the number on WhatsApp (the same answer whatever the number's status)."""

    status: Literal["pending_confirmation"]
    message: str
