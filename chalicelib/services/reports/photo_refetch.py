"""A citizen's photo the provider would not hand over at once is fetched again later, from the inbound queue.

Meta's media ids stay valid for weeks (only the download URL expires in minutes), so a photo whose fetch failed
for a transient reason is kept on the report as `pending` and tried again after a backoff; the citizen is not
asked to send it again unless the last try fails too (docs/reliability.md, row W10).
"""
from __future__ import annotations

import hashlib
from dataclasses import replace

from pydantic import BaseModel

from chalicelib.domain.reports import Event, Report, file_action
from chalicelib.observability import logger
from chalicelib.providers.base import Text
from chalicelib.services import clock
from chalicelib.services.messaging import outbound
from chalicelib.services.messaging.backoff import backoff_seconds
from chalicelib.services.replies import channel_text
from chalicelib.services.reports import updates
from chalicelib.settings import get_settings
from chalicelib.store import citizens, directory, queues
from chalicelib.store import reports as store

MAX_REFETCHES = 3  # later tries after the first fetch: 30 s, 60 s, 120 s (halves to whole, jittered) in AWS
KIND = "photo_refetch"  # the message attribute that tells a re-fetch from a webhook body on the inbound queue


class Refetch(BaseModel):
    tenant_id: str
    report_id: str
    channel_id: str
    media_id: str
    max_bytes: int
    attempt: int = 1
    citizen_key: str | None = None  # who sent it: a follower's photo joins the report they follow (None: the reporter)
    kind: str = "image"  # or audio, video, document: the same fetch, other checks


def schedule(job: Refetch) -> None:
    delay = backoff_seconds(get_settings().retry_base_seconds, job.attempt, 900)  # SQS delays up to 15 minutes
    queues.send("inbound", job.model_dump(), delay_seconds=delay, kind=KIND)


def handle(body: dict) -> None:
    """One re-fetch from the queue: store the photo, try again later, or give up and tell the citizen."""
    from chalicelib.services.reports import photos  # the image library loads only when a photo comes

    job = Refetch.model_validate(body)
    report = store.get(job.tenant_id, job.report_id)
    photo_id = photos.photo_id(job.channel_id, job.media_id)
    if report is None or not any(p.id == photo_id and p.status == "pending" for p in report.photos):
        return  # erased, merged away, or already settled by a duplicate delivery of this message
    photo = photos.take(job.channel_id, job.media_id, job.tenant_id, job.report_id, job.max_bytes, job.kind)
    if photo.status == "pending" and job.attempt < MAX_REFETCHES:
        schedule(job.model_copy(update={"attempt": job.attempt + 1}))
        return
    if photo.status == "pending":
        photo = replace(photo, status="failed")
    settled = _replace_photo(report, photo)
    logger.info("photo re-fetched", extra={"report": job.report_id, "status": photo.status, "attempt": job.attempt})
    if photo.status != "stored":
        _tell_sender(settled, job, photo.status, photo.reason)


def _replace_photo(report: Report, photo) -> Report:
    def edit(current: Report) -> Report:
        photos = tuple(photo if p.id == photo.id else p for p in current.photos)
        event = Event(at=clock.now(), actor="system", action=file_action(photo.kind),
                      data={"photo": photo.id, "status": photo.status})
        return store.with_event(current, event, photos=photos)
    return store.change(report.tenant_id, report.report_id, edit)


def _tell_sender(report: Report, job: Refetch, status: str, reason: str | None) -> None:
    """The photo is lost after all: the reporter is asked once to send it again (they wrote minutes ago, so the
    24-hour window is open; a reply outside it is refused by WhatsApp and recorded, nothing more)."""
    channel, tenant = directory.get_channel(job.channel_id), directory.get_tenant(job.tenant_id)
    key = job.citizen_key or (report.reporter or "").partition("#")[2]
    if channel is None or tenant is None or not key or not report.concerns(f"{job.channel_id}#{key}"):
        return  # erased meanwhile (reporter and followers are forgotten): nobody to ask
    family = "photo" if job.kind == "image" else "file"
    text_key = f"report.{family}_failed" if status == "failed" else f"report.{family}_refused.{reason}"
    body = channel_text(tenant, channel, text_key, number=report.number, max_mb=job.max_bytes // (1024 * 1024))
    recipient = updates.recipient_of(key, citizens.get(channel.phone_number_id, key))
    job_id = "photo-" + hashlib.sha256(f"{job.tenant_id}|{job.report_id}|{job.media_id}".encode()).hexdigest()[:32]
    outbound.reply(tenant.id, channel.phone_number_id, recipient, [Text(body=body)], job_id=job_id)
