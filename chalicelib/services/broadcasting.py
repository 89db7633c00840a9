"""Broadcasts: compose and validate, preview, staff actions, the due scheduler and the fan-out."""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from chalicelib.domain.broadcasts import (
    ACTION_RESULT,
    ACTIONS,
    PRIORITIES,
    QUIET_HOURS_DEFAULT,
    Audience,
    can,
    due_time,
    in_service_window,
)
from chalicelib.domain.hours import DailyWindow
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.observability import logger
from chalicelib.providers.base import Content, Image, Template, Text
from chalicelib.services import abuse, clock, outbound
from chalicelib.services import broadcast_progress as progress
from chalicelib.store import broadcasts, citizens, directory, queues
from chalicelib.store.broadcasts import Broadcast

PAGE_SIZE = 500  # subscribers read per fan-out page (one Query, one checkpoint)
CHUNK_SIZE = 40  # recipients per outbound job: with the broadcast, 81 keys fit one BatchGetItem
FANOUT_TIME_BUDGET = timedelta(minutes=10)  # then the fan-out hands over to a fresh invocation
DEFAULT_MESSAGING_LIMIT = 1000  # unique users outside the 24-hour window per day (Meta tier)
MAX_AHEAD = timedelta(days=366)  # how far ahead a broadcast may be scheduled


class TemplateInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=512, pattern=r"^[a-z0-9_]+$")
    language: str = Field(default="it", min_length=2, max_length=10)
    parameters: list[str] = Field(default_factory=list, max_length=10)


class AudienceInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hamlets: list[str] = Field(default_factory=list, max_length=50)
    topics: list[str] = Field(default_factory=list, max_length=50)


class NewBroadcast(BaseModel):
    """What staff send: free text or a template, optionally an image, an audience and a time."""

    model_config = ConfigDict(extra="forbid")
    channel: str = Field(min_length=1, max_length=64)
    text: str | None = Field(default=None, min_length=1, max_length=4096)
    template: TemplateInput | None = None
    image_url: HttpUrl | None = None
    audience: AudienceInput = Field(default_factory=AudienceInput)
    send_at: datetime | None = None
    priority: str = "normal"
    draft: bool = False

    @model_validator(mode="after")
    def _one_content(self) -> NewBroadcast:
        if (self.text is None) == (self.template is None):
            raise ValueError("give either text or template, not both")
        if self.priority not in PRIORITIES:
            raise ValueError(f"priority must be one of {', '.join(PRIORITIES)}")
        if self.image_url is not None and self.text is not None and len(self.text) > 1024:
            raise ValueError("an image caption holds at most 1024 characters")
        if self.send_at is not None and self.send_at.tzinfo is None:
            raise ValueError("send_at needs a time zone, e.g. 2026-12-01T09:00:00+01:00")
        return self


class Refused(ValueError):
    """A broadcast staff cannot send as given; the message says why."""


def create(staff, tenant: Tenant, channel: Channel, data: NewBroadcast) -> Broadcast:
    record = compose(staff, tenant, channel, data)
    broadcasts.create(record)
    if record.status == "scheduled" and record.due_at <= clock.now().isoformat():
        start(record)
    return broadcasts.get(tenant.id, record.id)


def compose(staff, tenant: Tenant, channel: Channel, data: NewBroadcast) -> Broadcast:
    """The broadcast staff asked for, checked but not saved (create saves it; the console previews it live)."""
    if channel.kind != "broadcast":
        raise Refused("broadcasts go out on a channel of kind 'broadcast'")
    unknown = [h for h in data.audience.hamlets if not tenant.hamlet(h)]
    unknown += [t for t in data.audience.topics if not tenant.topic(t)]
    if unknown:
        raise Refused(f"unknown hamlet or topic: {', '.join(unknown)}")
    if data.template and not _approved(channel, data.template.name):
        raise Refused(f"template '{data.template.name}' is not approved for this channel")
    now = clock.now()
    if data.send_at is not None and data.send_at > now + MAX_AHEAD:
        raise Refused(f"send_at can be at most {MAX_AHEAD.days} days ahead")
    send_at = max(data.send_at or now, now)
    return Broadcast(
        tenant_id=tenant.id, id=f"{now:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:6]}", channel_id=channel.phone_number_id,
        status="draft" if data.draft else "scheduled", content=_content(data),
        audience=Audience(tuple(data.audience.hamlets), tuple(data.audience.topics)), priority=data.priority,
        send_at=send_at.isoformat(), due_at=due_time(send_at, data.priority, quiet_hours(channel)).isoformat(),
        created_by=staff.subject, created_at=now.isoformat(),
    )


def _content(data: NewBroadcast) -> dict:
    content = {"text": data.text} if data.text is not None else {"template": data.template.model_dump()}
    if data.image_url is not None:
        content["image_url"] = str(data.image_url)
    return content


def _approved(channel: Channel, name: str) -> bool:
    return any(t["name"] == name for t in channel.approved_templates())


def quiet_hours(channel: Channel) -> DailyWindow | None:
    return DailyWindow.parse(channel.settings.get("quiet_hours"), QUIET_HOURS_DEFAULT)


def act(broadcast: Broadcast, action: str, channel: Channel) -> Broadcast:
    """schedule, cancel, pause or resume, with the broadcast's current status checked in the write."""
    if not can(broadcast.status, action):
        allowed = ", ".join(sorted(ACTIONS.get(broadcast.status, ()))) or "none"
        raise Refused(f"a {broadcast.status} broadcast cannot be {action}d (allowed: {allowed})")
    now = clock.now()
    target = ACTION_RESULT[action]
    if action == "resume" and broadcast.started_at is None:
        target = "scheduled"  # paused before it ever started
    if not broadcasts.transition(broadcast.tenant_id, broadcast.id, {broadcast.status}, target, now):
        raise Refused("the broadcast changed meanwhile; reload and try again")
    if target == "scheduled" and broadcast.due_at <= now.isoformat():
        start(replace(broadcast, status="scheduled"))
    elif target == "sending":
        _hand_to_fanout(broadcast.tenant_id, broadcast.id)
    return broadcasts.get(broadcast.tenant_id, broadcast.id)


def start(broadcast: Broadcast) -> bool:
    """Claim a due broadcast (scheduled -> sending, conditionally) and hand it to the fan-out."""
    if not broadcasts.transition(broadcast.tenant_id, broadcast.id, {"scheduled"}, "sending", clock.now()):
        return False  # another trigger claimed it first
    _hand_to_fanout(broadcast.tenant_id, broadcast.id)
    logger.info("broadcast started", extra={"broadcast_id": broadcast.id})
    return True


def _hand_to_fanout(tenant_id: str, broadcast_id: str) -> None:
    queues.send("fanout", {"tenant_id": tenant_id, "broadcast_id": broadcast_id})


def start_due() -> int:
    """The every-minute schedule: start what is due; two triggers never start one broadcast twice."""
    return sum(1 for b in broadcasts.due(clock.now()) if start(b))


def fan_out_message(body: dict) -> None:
    """A fan-out job from its queue; a long audience continues in a fresh message (and invocation)."""
    tenant_id, broadcast_id = body["tenant_id"], body["broadcast_id"]
    broadcast = broadcasts.get(tenant_id, broadcast_id)
    if broadcast is None:
        logger.warning("fan-out for a missing broadcast", extra={"broadcast_id": broadcast_id})
        return
    channel, tenant = directory.get_channel(broadcast.channel_id), directory.get_tenant(tenant_id)
    if fan_out(tenant_id, broadcast_id, channel, tenant):
        _hand_to_fanout(tenant_id, broadcast_id)


def fan_out(tenant_id: str, broadcast_id: str, channel: Channel, tenant: Tenant) -> bool:
    """Page the audience into outbound jobs from the checkpoint on; True when it must continue elsewhere."""
    started = clock.now()
    broadcast = broadcasts.get(tenant_id, broadcast_id)
    while broadcast is not None and broadcast.status == "sending" and not broadcast.fanout_done:
        page, next_cursor = citizens.active_page(broadcast.channel_id, broadcast.cursor, PAGE_SIZE)
        chosen = [c for c in page if broadcast.audience.includes(c.hamlets, c.topics)]
        if not _within_budget(tenant, broadcast, len(chosen)):
            return False
        outbound.enqueue_many(_jobs(broadcast, channel, tenant, chosen))
        if not broadcasts.checkpoint(tenant_id, broadcast_id, next_cursor, broadcast.page + 1, len(chosen),
                                     done=next_cursor is None):
            return False  # paused or cancelled meanwhile, or another fan-out got there first
        broadcast = replace(broadcast, cursor=next_cursor, page=broadcast.page + 1, fanout_done=next_cursor is None)
        if clock.now() - started > FANOUT_TIME_BUDGET and not broadcast.fanout_done:
            return True
    finished = broadcasts.get(tenant_id, broadcast_id)  # fresh counters: the sender has been counting meanwhile
    if finished is not None:
        progress.complete_if_done(finished)
    return False


def _within_budget(tenant: Tenant, broadcast: Broadcast, messages: int) -> bool:
    """The spending guard: the recipients a comune's broadcasts reach in one (UTC) day stay within its
    `limits.broadcast_messages_per_day`; the page that would pass it is not sent and the broadcast is paused
    with the reason, for staff to resume (the next day, or after raising the limit). A page fanned out again
    (a retry, a resume) counts again: the guard errs on the side of spending less."""
    try:
        abuse.check(abuse.Limit("broadcast-messages", tenant.limits.broadcast_messages_per_day, 86400),
                    tenant.id, amount=messages)
        return True
    except abuse.TooMany:
        reason = f"daily message budget reached ({tenant.limits.broadcast_messages_per_day} a day)"
        broadcasts.transition(tenant.id, broadcast.id, {"sending"}, "paused", clock.now(), reason=reason)
        logger.warning("broadcast paused by the spending guard", extra={"broadcast_id": broadcast.id})
        return False


def _jobs(broadcast: Broadcast, channel: Channel, tenant: Tenant, chosen: list) -> list[outbound.OutboundJob]:
    content, fallback = message_for(broadcast, channel, tenant)
    run = f"{broadcast.id}.{''.join(ch for ch in (broadcast.started_at or '')[11:26] if ch.isdigit())}"  # per start
    jobs = []
    for index in range(0, len(chosen), CHUNK_SIZE):
        part = chosen[index:index + CHUNK_SIZE]
        jobs.append(outbound.OutboundJob(
            job_id=f"{run}.p{broadcast.page}.c{index // CHUNK_SIZE}", tenant_id=broadcast.tenant_id,
            channel_id=broadcast.channel_id, contents=[content], fallback=fallback, broadcast_id=broadcast.id,
            recipients=[outbound.JobRecipient(key=c.key, phone=c.phone, user_id=c.user_id) for c in part],
        ))
    return jobs


def message_for(broadcast: Broadcast, channel: Channel, tenant: Tenant) -> tuple[Content, Template | None]:
    """What goes out: the text (with its image) inside the window, the channel's notice template outside."""
    content = broadcast.content
    header_image = content.get("image_url")
    if "template" in content:
        t = content["template"]
        return Template(name=t["name"], language=t.get("language", tenant.language),
                        body_params=t.get("parameters", []), header_image_link=header_image), None
    text = content["text"]
    free: Content = Image(link=header_image, caption=text) if header_image else Text(body=text)
    notice = channel.template("notice")
    fallback = Template(name=notice["name"], language=notice.get("language", tenant.language),
                        body_params=[text], header_image_link=header_image) if notice else None
    return free, fallback


def preview(broadcast: Broadcast, channel: Channel, tenant: Tenant) -> dict:
    """Who it reaches and what WhatsApp will ask of it, with warnings rather than silent truncation."""
    now = clock.now()
    audience = outside_window = 0
    cursor = None
    while True:
        page, cursor = citizens.active_page(channel.phone_number_id, cursor, 1000)
        for citizen in page:
            if broadcast.audience.includes(citizen.hamlets, citizen.topics):
                audience += 1
                outside_window += not in_service_window(citizen.last_inbound_at, now)
        if cursor is None:
            break
    return _preflight(broadcast, channel, tenant, audience, outside_window, now)


def _preflight(broadcast: Broadcast, channel: Channel, tenant: Tenant, audience: int, outside_window: int,
               now: datetime) -> dict:
    content, fallback = message_for(broadcast, channel, tenant)
    uses_template = isinstance(content, Template)
    template = content if uses_template else fallback
    needs_template = uses_template or outside_window > 0
    settings = next((t for t in channel.settings.get("templates", {}).values()
                     if template and t.get("name") == template.name), None)
    limit = int(channel.settings.get("messaging_limit", DEFAULT_MESSAGING_LIMIT))
    template_recipients = audience if uses_template else outside_window
    rate = channel.rate_per_second
    warnings = []
    if audience == 0:
        warnings.append("No active subscriber matches this audience.")
    if needs_template and template is None:
        warnings.append(f"{outside_window} recipients are outside the 24-hour window and the channel has no "
                        "approved notice template: they cannot be reached.")
    elif needs_template and settings and settings.get("status", "APPROVED") != "APPROVED":
        warnings.append(f"Template '{template.name}' is {settings.get('status')}, not approved.")
    if template_recipients > limit:
        warnings.append(f"{template_recipients} recipients need a template but the channel's messaging limit is "
                        f"{limit} per 24 hours: WhatsApp will refuse the rest.")
    due = datetime.fromisoformat(broadcast.due_at)
    if due > now and broadcast.priority != "alert" and broadcast.due_at != broadcast.send_at:
        warnings.append(f"Quiet hours: it will go at {due.isoformat()}.")
    return {
        "audience": audience,
        "outside_window": outside_window,
        "template": {
            "needed": needs_template, "name": template.name if template else None,
            "approved": bool(template) and (settings or {}).get("status", "APPROVED") == "APPROVED",
            "category": (settings or {}).get("category"),
        },
        "messaging_limit": limit,
        "rate_per_second": rate,
        "estimated_seconds": round(audience / rate, 1) if rate else None,
        "due_at": broadcast.due_at,
        "warnings": warnings,
    }
