"""The Meta WhatsApp Cloud API provider: wire models, webhooks in, bodies out, error classes and the Graph client.

MetaProvider and classify are imported on first use (PEP 562): the webhook endpoint's first request after a cold
start needs only the provider's envelope check (envelope.py), not the wire models."""
from __future__ import annotations

from typing import Any

__all__ = ["MetaProvider", "classify"]


def __getattr__(name: str) -> Any:
    if name == "MetaProvider":
        from chalicelib.providers.meta.provider import MetaProvider

        return MetaProvider
    if name == "classify":
        from chalicelib.providers.meta.errors import classify

        return classify
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
