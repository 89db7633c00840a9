"""The sandbox WhatsApp provider: a local stand-in for Meta's Graph API, with a test API and a phone page."""
from .server import SandboxServer

__all__ = ["SandboxServer"]
