"""The privacy desk's log of requests handled (GDPR art. 30 records, art. 12(3) deadlines): kind, when, by whom,
outcome, and the subject only masked and as a keyed hash (an erased number is not kept here either)."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.store.models import PrivacyRequestModel

RETENTION = timedelta(days=5 * 365)  # the records of a comune's answers to data subjects: DPO to confirm
SUMMARY_MAX = 4_000  # characters of a request's summary kept
MAX_LISTED = 500


@dataclass(frozen=True)
class PrivacyRequest:
    tenant_id: str
    at: datetime
    kind: str
    outcome: str
    actor: str
    actor_name: str | None
    subject_masked: str
    subject_hash: str
    summary: dict[str, Any]


def append(request: PrivacyRequest) -> None:
    summary = json.dumps(request.summary, ensure_ascii=False, sort_keys=True, default=str)
    PrivacyRequestModel(
        request.tenant_id, f"{request.at.isoformat()}#{uuid.uuid4().hex[:8]}", kind=request.kind,
        outcome=request.outcome, actor=request.actor, actor_name=request.actor_name,
        subject_masked=request.subject_masked, subject_hash=request.subject_hash,
        summary=summary if len(summary) <= SUMMARY_MAX else json.dumps({"truncated": True}),
        expires_at=request.at + RETENTION,
    ).save(condition=PrivacyRequestModel.at.does_not_exist())


def latest(tenant_id: str, limit: int = 100, subject_hash: str | None = None) -> list[PrivacyRequest]:
    """The newest requests first (of one subject, by its keyed hash, when given)."""
    condition = PrivacyRequestModel.subject_hash == subject_hash if subject_hash else None
    found = PrivacyRequestModel.query(tenant_id, scan_index_forward=False, filter_condition=condition,
                                      page_size=min(MAX_LISTED, 200))
    out = []
    for model in found:
        out.append(_request(model))
        if len(out) >= min(limit, MAX_LISTED):
            break
    return out


def _request(m: PrivacyRequestModel) -> PrivacyRequest:
    return PrivacyRequest(m.tenant_id, datetime.fromisoformat(m.at.split("#")[0]), m.kind, m.outcome, m.actor,
                          m.actor_name, m.subject_masked, m.subject_hash, json.loads(m.summary or "{}"))
