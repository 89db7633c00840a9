"""A broadcast's preview: who it reaches and what WhatsApp will ask of it (templates, window, limits, time)."""
from __future__ import annotations

from datetime import datetime

from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.providers.base import Content, Template
from chalicelib.services import clock
from chalicelib.services.admin import templates
from chalicelib.services.broadcasts import notice
from chalicelib.services.broadcasts.notice import message_for
from chalicelib.services.subscriptions import audiences
from chalicelib.store.broadcasts import Broadcast


def preview(broadcast: Broadcast, channel: Channel, tenant: Tenant) -> dict:
    """Who it reaches and what WhatsApp will ask of it, with warnings rather than silent truncation. The counts come
    from the audience cells and the subscribers who wrote lately: a few reads whatever the channel's size."""
    now = clock.now()
    reach = audiences.reach(channel.phone_number_id, broadcast.audience, now)
    return _preflight(broadcast, channel, tenant, reach.recipients, reach.outside_window, now)


def _preflight(broadcast: Broadcast, channel: Channel, tenant: Tenant, audience: int, outside_window: int,
               now: datetime) -> dict:
    content, fallback = message_for(broadcast, channel, tenant)
    uses_template = isinstance(content, Template)
    template = content if uses_template else fallback
    needs_template = uses_template or outside_window > 0
    chosen = templates.described(channel, template.name) if template else None
    limit = channel.settings.messaging_limit
    template_recipients = audience if uses_template else outside_window
    rate = channel.rate_per_second
    warnings = []
    if audience == 0:
        warnings.append("No active subscriber matches this audience.")
    if needs_template and template is None:
        warnings.append(f"{outside_window} recipients are outside the 24-hour window and the channel has no "
                        "approved notice template: they cannot be reached.")
    elif needs_template and chosen and not chosen.approved:
        warnings.append(f"Template '{template.name}' is {chosen.status}, not approved.")
    if needs_template and chosen and chosen.previous_category:
        warnings.append(f"Template '{template.name}' was re-categorised by WhatsApp from {chosen.previous_category} "
                        f"to {chosen.category}.")
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
            "approved": bool(template) and (chosen is None or chosen.approved),
            "category": chosen.category if chosen else None,
            "previous_category": (chosen.previous_category or None) if chosen else None,
        },
        "messaging_limit": limit,
        "rate_per_second": rate,
        "estimated_seconds": round(audience / rate, 1) if rate else None,
        "due_at": broadcast.due_at,
        "warnings": warnings,
        "receives": _receives(broadcast, channel, content, fallback, audience, outside_window),
    }


def _receives(broadcast: Broadcast, channel: Channel, content: Content, fallback: Template | None, audience: int,
              outside_window: int) -> list[dict]:
    """Which group of recipients receives what: a template goes to everyone; free text goes as it is inside the
    24-hour window, and outside it as the notice template, whose button's tap brings the full text."""
    if isinstance(content, Template):
        return [{"group": "everyone", "recipients": audience, "messages": [notice.shown(content, channel)],
                 "after_tap": []}]
    full = notice.shown(content, channel)
    return [
        {"group": "inside_window", "recipients": audience - outside_window, "messages": [full], "after_tap": []},
        {"group": "outside_window", "recipients": outside_window,
         "messages": [notice.shown(fallback, channel)] if fallback else [], "after_tap": [full] if fallback else []},
    ]
