"""Composing a broadcast: what staff asked for, checked; staff actions on it; what each recipient receives."""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from chalicelib.domain import whatsapp
from chalicelib.domain.access import Staff
from chalicelib.domain.broadcasts import (
    ACTION_RESULT,
    ACTIONS,
    NOTICE_TITLE_MAX,
    PRIORITIES,
    Audience,
    can,
    due_time,
    notice_title,
)
from chalicelib.domain.hours import DailyWindow
from chalicelib.domain.settings import TEMPLATE_SHAPES
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.services import clock
from chalicelib.services.admin import templates
from chalicelib.services.broadcasts import schedule
from chalicelib.store import broadcasts
from chalicelib.store.broadcasts import Broadcast

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
    title: str | None = Field(default=None, min_length=1, max_length=NOTICE_TITLE_MAX)  # for the notice template
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
        if self.title is not None and self.text is None:
            raise ValueError("a title goes with a text: it is what recipients outside the 24-hour window see first")
        problem = whatsapp.parameter_problem(self.title) if self.title is not None else None
        if problem:
            raise ValueError(f"the title {problem}")
        if self.priority not in PRIORITIES:
            raise ValueError(f"priority must be one of {', '.join(PRIORITIES)}")
        if self.image_url is not None and self.template is not None:
            # the templates staff may pick (the channel's, domain/settings.TEMPLATE_SHAPES) have no image header:
            # WhatsApp would refuse the header parameter (132000) for every recipient
            raise ValueError("an image goes with a text, not with a template")
        if self.image_url is not None and self.text is not None and len(self.text) > 1024:
            raise ValueError("an image caption holds at most 1024 characters")
        if self.send_at is not None and self.send_at.tzinfo is None:
            raise ValueError("send_at needs a time zone, e.g. 2026-12-01T09:00:00+01:00")
        return self


class Refused(ValueError):
    """A broadcast staff cannot send as given; the message says why."""


def create(staff: Staff, tenant: Tenant, channel: Channel, data: NewBroadcast) -> Broadcast:
    record = compose(staff, tenant, channel, data)
    broadcasts.create(record)
    if record.status == "scheduled" and record.due_at <= clock.now().isoformat():
        schedule.start(record)
    return broadcasts.get(tenant.id, record.id)


def compose(staff: Staff, tenant: Tenant, channel: Channel, data: NewBroadcast) -> Broadcast:
    """The broadcast staff asked for, checked but not saved (create saves it; the console previews it live)."""
    if channel.kind != "broadcast":
        raise Refused("broadcasts go out on a channel of kind 'broadcast'")
    unknown = [h for h in data.audience.hamlets if not tenant.hamlet(h)]
    unknown += [t for t in data.audience.topics if not tenant.topic(t)]
    if unknown:
        raise Refused(f"unknown hamlet or topic: {', '.join(unknown)}")
    if data.template and not _approved(channel, data.template.name):
        raise Refused(f"template '{data.template.name}' is not approved for this channel")
    if data.template:
        _check_parameters(channel, data.template)
    elif not data.text.strip():
        raise Refused("the text is blank")
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


def _check_parameters(channel: Channel, template: TemplateInput) -> None:
    """What WhatsApp would refuse in a template's parameters, refused now (a 422) rather than at each send: a new
    line, a tab or more than four spaces (132018), an empty one, their number (132000), the text once filled in
    (over 1,024 characters: 132005)."""
    for index, parameter in enumerate(template.parameters, start=1):
        problem = whatsapp.parameter_problem(parameter)
        if problem:
            raise Refused(f"template parameter {index} {problem}")
    shapes = [(TEMPLATE_SHAPES[p][0], t) for p, t in channel.settings.templates.items() if t.name == template.name]
    held = templates.described(channel, template.name) if not shapes else None
    if held is not None and held.body:
        shapes = [(whatsapp.placeholders(held.body), held)]
    for expected, declared in shapes:
        if len(template.parameters) != expected:
            raise Refused(f"template '{template.name}' takes {expected} parameter{'s' * (expected > 1)}, "
                          f"{len(template.parameters)} given")
        lengths = [len(p) for p in template.parameters]
        if declared.body and whatsapp.filled_length(declared.body, lengths) > whatsapp.TEMPLATE_BODY_MAX:
            raise Refused(f"template '{template.name}' would be over {whatsapp.TEMPLATE_BODY_MAX} characters "
                          "with these parameters")


def _content(data: NewBroadcast) -> dict:
    if data.text is not None:
        content = {"text": data.text, "title": data.title or notice_title(data.text)}
    else:
        content = {"template": data.template.model_dump()}
    if data.image_url is not None:
        content["image_url"] = str(data.image_url)
    return content


def _approved(channel: Channel, name: str) -> bool:
    """A template the channel declared approved, or one WhatsApp approved that fits a notice (templates.py)."""
    return any(t["name"] == name for t in channel.approved_templates()) or templates.usable_for_notice(channel, name)


def quiet_hours(channel: Channel) -> DailyWindow | None:
    return channel.settings.quiet_hours.window()


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
        schedule.start(replace(broadcast, status="scheduled"))
    elif target == "sending":
        schedule.hand_to_fanout(broadcast.tenant_id, broadcast.id)
    return broadcasts.get(broadcast.tenant_id, broadcast.id)
