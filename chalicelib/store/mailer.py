"""Emails through Amazon SES (forwarding reports to the external body in charge)."""
from __future__ import annotations

from chalicelib.settings import get_settings
from chalicelib.store import aws


def _client():
    return aws.client("ses")


def send(to: str, subject: str, body: str, reply_to: str | None = None) -> str:
    """Send a plain-text email; returns SES's message id (recorded on the report)."""
    answer = _client().send_email(
        Source=get_settings().mail_from,
        Destination={"ToAddresses": [to]},
        Message={"Subject": {"Data": subject, "Charset": "UTF-8"}, "Body": {"Text": {"Data": body, "Charset": "UTF-8"}}},
        **({"ReplyToAddresses": [reply_to]} if reply_to else {}),
    )
    return answer["MessageId"]
