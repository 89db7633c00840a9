"""Messages to a Vicinato person who did not just write (a coordinator's new report, a decision, a police status):
free-form inside their 24-hour window; outside it the channel's `vicinato_news` template, whose tap («Leggi»)
brings what waited (kept on their record, bounded)."""
from __future__ import annotations

from datetime import datetime

from chalicelib.domain.broadcasts import in_service_window
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.domain.vicinato import Person
from chalicelib.observability import logger
from chalicelib.providers.base import Content, Template
from chalicelib.services.messaging import outbound
from chalicelib.store import citizens
from chalicelib.store import vicinato as store

NEWS_PAYLOAD = "vic:news"
NEWS_MAX = 10  # messages kept for a tap: the oldest go first


def to_person(tenant: Tenant, channel: Channel, person: Person, contents: list[Content], job_id: str,
              now: datetime) -> None:
    """Queue contents for person (job_id derives from what caused them: a replay sends nothing more)."""
    if not contents:
        return
    citizen = citizens.get(channel.phone_number_id, person.citizen_key)
    recipient = outbound.JobRecipient(key=person.citizen_key, phone=person.phone or (citizen.phone if citizen else None),
                                      user_id=person.user_id or (citizen.user_id if citizen else None))
    template = channel.template("vicinato_news")
    if (citizen is not None and in_service_window(citizen.last_inbound_at, now)) or template is None:
        if template is None and not (citizen and in_service_window(citizen.last_inbound_at, now)):
            logger.warning("no vicinato_news template: free text outside the window", extra={"job_id": job_id})
        outbound.reply(tenant.id, channel.phone_number_id, recipient, contents, job_id=job_id)
        return
    raw = [c.model_dump(mode="json") for c in contents]

    def keep(current: Person | None) -> Person | None:
        if current is None:
            return None
        news = ([*current.draft.get("news", []), *raw])[-NEWS_MAX:]
        return _with_draft(current, news=news)
    store.change_person(person.tenant_id, person.key, keep)
    outbound.reply(tenant.id, channel.phone_number_id, recipient,
                   [Template(name=template.name, language=template.language, body_params=[tenant.name],
                             button_payloads=[NEWS_PAYLOAD])], job_id=job_id)


def take_news(person: Person) -> list[dict]:
    """What waited for person's tap, forgotten once taken."""
    taken: list[dict] = []

    def clear(current: Person | None) -> Person | None:
        if current is None or not current.draft.get("news"):
            return None
        taken.extend(current.draft["news"])
        return _with_draft(current, news=None)
    store.change_person(person.tenant_id, person.key, clear)
    return taken


def _with_draft(person: Person, **changes) -> Person:
    from dataclasses import replace

    draft = {**person.draft, **changes}
    return replace(person, draft={k: v for k, v in draft.items() if v is not None})
