"""The emails the app sent, as moto's SES (in the test process) keeps them: read from its backend, not from
/moto-api/data.json, which dumps every service's whole state (seconds, late in a session)."""
from __future__ import annotations

import re

import boto3
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from tests.waiting import wait_for


def sent() -> list:
    """Every message SES accepted so far (moto's Message objects: destinations, subject, body), oldest first."""
    return list(ses_backends[DEFAULT_ACCOUNT_ID][boto3.session.Session().region_name or "eu-south-1"].sent_messages)


def bodies_to(email: str) -> list[str]:
    return [m.body for m in sent() if email in (getattr(m, "destinations", {}) or {}).get("ToAddresses", [])]


def temporary_password(email: str, nth: int = 1) -> str:
    """The temporary password in the nth invitation or reset email to this address (services/admin/staff.py)."""
    body = wait_for(lambda: (found := bodies_to(email)) and len(found) >= nth and found, 10)[nth - 1]
    return re.search(r"Password temporanea: (\S+)", body).group(1)
