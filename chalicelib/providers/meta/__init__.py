"""The Meta WhatsApp Cloud API provider: wire models, webhooks in, bodies out, error classes and the Graph client."""
from chalicelib.providers.meta.errors import classify
from chalicelib.providers.meta.provider import MetaProvider

__all__ = ["MetaProvider", "classify"]
