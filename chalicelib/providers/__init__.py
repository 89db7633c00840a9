"""WhatsApp providers: one port (base.py), one module or package per provider (meta/)."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.providers.base import Provider


@lru_cache(maxsize=1)
def get_provider() -> Provider:
    """The configured provider, built once per Lambda instance (secrets are read here)."""
    from chalicelib.providers.meta import MetaProvider
    from chalicelib.settings import get_settings

    settings = get_settings()
    secrets = settings.meta_secrets()
    return MetaProvider(
        app_secret=secrets.app_secret, verify_token=secrets.verify_token, access_token=secrets.access_token,
        graph_url=settings.graph_url, graph_version=settings.graph_version,
    )
