"""Subscribing from the comune's web form: the same double opt-in, confirmed on WhatsApp."""
from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from chalicelib.domain import subscriptions as rules
from chalicelib.domain.phones import InvalidPhone, normalize
from chalicelib.domain.subscriptions import Citizen
from chalicelib.services import abuse, clock
from chalicelib.services.forms import FormRefused
from chalicelib.services.messaging import outbound
from chalicelib.services.subscriptions import conversation
from chalicelib.store import citizens, directory

PER_PHONE = abuse.Limit("form-phone", max_hits=3, window_seconds=24 * 3600)
PER_CLIENT = abuse.Limit("form-client", max_hits=30, window_seconds=3600)
MAX_TENANT_ID = 64  # a longer id from the URL is no comune (and over DynamoDB's key limit)


class FormRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str = Field(max_length=32)
    consent: StrictBool  # only a JSON true: "yes", "true", 1 or "on" are no one's consent
    channel: str | None = Field(default=None, max_length=64)
    hamlets: list[str] = Field(default_factory=list, max_length=20)
    topics: list[str] = Field(default_factory=list, max_length=20)


def submit(tenant_id: str, form: FormRequest, client: str) -> None:
    """Validate, limit, record a pending request and send the confirmation template."""
    tenant = directory.get_tenant(tenant_id) if len(tenant_id) <= MAX_TENANT_ID else None
    if tenant is None:
        raise LookupError("tenant")
    channel = _channel(tenant_id, form.channel)
    if not form.consent:
        raise FormRefused("consent", "Per iscriversi bisogna accettare l'informativa privacy.")
    try:
        phone = normalize(form.phone)
    except InvalidPhone:
        raise FormRefused("phone", "Il numero di telefono non è valido.") from None
    unknown = [h for h in form.hamlets if not tenant.hamlet(h)] + [t for t in form.topics if not tenant.topic(t)]
    if unknown:
        raise FormRefused("hamlets", f"Frazioni o argomenti sconosciuti: {', '.join(unknown)}.")
    abuse.check(PER_CLIENT, client)
    abuse.check(PER_PHONE, phone)
    now = clock.now()
    citizen = citizens.get(channel.phone_number_id, phone) or Citizen(
        channel_id=channel.phone_number_id, tenant_id=tenant.id, phone=phone, created_at=now)
    if citizen.active:
        return  # nothing to confirm; the answer stays the same so the form reveals no one's status
    template = conversation.web_form_confirmation(tenant, channel)
    citizen = rules.request(citizen, "web_form", now, tuple(form.hamlets), tuple(form.topics))
    citizens.save(citizen, now)
    recipient = outbound.JobRecipient(key=citizen.key, phone=phone)
    outbound.reply(tenant.id, channel.phone_number_id, recipient, [template],
                   job_id=f"form-{uuid.uuid4().hex}")


def _channel(tenant_id: str, channel_id: str | None):
    channels = [c for c in directory.channels_of(tenant_id) if c.kind == "broadcast"]
    if channel_id:
        channels = [c for c in channels if c.phone_number_id == channel_id]
    if len(channels) != 1:
        raise FormRefused("channel", "Scegliere il canale di avvisi a cui iscriversi.")
    return channels[0]
