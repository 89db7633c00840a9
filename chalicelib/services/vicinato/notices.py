"""Notices to Vicinato zones (a coordinator's «Avvisa la zona», the police's notices) through the broadcast engine:
a broadcast on the safety channel whose audience is the zones' active people (Audience.zones), with its pacing,
quiet hours (an alert passes them), the notice template outside the 24-hour window and its receipts. Nobody's
number is in it: each person gets it one-to-one."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.access import Staff
from chalicelib.domain.broadcasts import PRIORITIES, Audience, due_time, notice_title
from chalicelib.domain.subscriptions import Citizen
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.services import clock
from chalicelib.services.access import record_change, tenant_of
from chalicelib.services.broadcasts import schedule
from chalicelib.services.replies import channel_text
from chalicelib.store import broadcasts
from chalicelib.store import vicinato as store
from chalicelib.store.broadcasts import Broadcast

ALL_ZONES = "*"


class Refused(ValueError):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def send(tenant: Tenant, channel: Channel, zones: tuple[str, ...], text: str, priority: str, created_by: str,
         now: datetime, exclude: tuple[str, ...] = ()) -> Broadcast:
    """A broadcast to the zones' people, scheduled now (a normal one waits for the end of the quiet hours)."""
    record = Broadcast(
        tenant_id=tenant.id, id=f"{now:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:6]}", channel_id=channel.phone_number_id,
        status="scheduled", content={"text": text, "title": notice_title(text)},
        audience=Audience(zones=tuple(zones), exclude=tuple(exclude)), priority=priority, send_at=now.isoformat(),
        due_at=due_time(now, priority, channel.settings.quiet_hours.window()).isoformat(), created_by=created_by,
        created_at=now.isoformat())
    broadcasts.create(record)
    if record.due_at <= clock.now().isoformat():
        schedule.start(record)
    return broadcasts.get(tenant.id, record.id) or record


def audience_page(broadcast: Broadcast, size: int) -> tuple[list[Citizen], dict | None]:
    """One page of a zone notice's audience for the fan-out: the zones' active people but the excluded ones."""
    people, cursor = store.active_page(broadcast.tenant_id, broadcast.audience.zones, broadcast.cursor, size)
    excluded = set(broadcast.audience.exclude)
    chosen = [Citizen(channel_id=p.channel_id, tenant_id=p.tenant_id, phone=p.phone, user_id=p.user_id,
                      status="active") for p in people
              if p.channel_id == broadcast.channel_id and p.citizen_key not in excluded]
    return chosen, cursor


class PoliceNotice(BaseModel):
    """The police's notice to one zone, several, or all of them (["*"])."""

    model_config = ConfigDict(extra="forbid")
    zones: list[str] = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=3800)
    priority: str = "normal"


def police_send(staff: Staff, data: PoliceNotice) -> dict[str, Any]:
    from chalicelib.services.vicinato.people import safety_channel

    tenant = tenant_of(staff)
    if data.priority not in PRIORITIES:
        raise Refused(f"Priorità: una tra {', '.join(PRIORITIES)}.", "priority")
    if not data.text.strip():
        raise Refused("Il testo è vuoto.", "text")
    known = [z.id for z in tenant.vicinato.zones]
    zones = tuple(known) if ALL_ZONES in data.zones else tuple(dict.fromkeys(data.zones))
    unknown = [z for z in zones if z not in known]
    if unknown or not zones:
        raise Refused(f"Zone sconosciute: {', '.join(unknown)[:200] or 'nessuna zona'}.", "zones")
    channel = safety_channel(tenant.id)
    now = clock.now()
    names = ", ".join(z.name for z in tenant.vicinato.zones if z.id in zones)
    text = channel_text(tenant, channel, "vicinato.police_notice", text=data.text.strip())[:4096]
    record_change(staff, "vicinato.police_notice", ",".join(zones)[:500], None,
                  {"zones": list(zones), "priority": data.priority, "text": data.text[:500]})
    broadcast = send(tenant, channel, zones, text, data.priority, created_by=staff.subject, now=now)
    return {"broadcast_id": broadcast.id, "status": broadcast.status, "zones": list(zones), "zone_names": names,
            "priority": data.priority, "due_at": broadcast.due_at}
