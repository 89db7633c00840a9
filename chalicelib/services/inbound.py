"""The inbound worker: verified webhook payloads from the queue, each message handled exactly once."""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from chalicelib.domain.phones import InvalidPhone, mask, normalize
from chalicelib.domain.subscriptions import Citizen, with_retention
from chalicelib.observability import logger, ref
from chalicelib.providers import get_provider
from chalicelib.providers.base import InboundMessage
from chalicelib.resources import table_name
from chalicelib.services import clock
from chalicelib.services.admin import templates
from chalicelib.services.messaging import outbound
from chalicelib.services.reports import intake
from chalicelib.services.subscriptions import conversation
from chalicelib.services.webhook_queue import DEDUPE_WINDOW, MAX_QUEUED_BYTES, queue_payload  # noqa: F401 - named here too
from chalicelib.store import citizens, directory


def _on_duplicate(response, record):
    """A message handled before (Meta redelivered it, or the queue did): counted here, not handled again."""
    logger.info("duplicate message skipped", extra={"idempotency_key": record.idempotency_key})
    return response


_config = IdempotencyConfig(
    event_key_jmespath="message_id", expires_after_seconds=int(DEDUPE_WINDOW.total_seconds()),
    raise_on_no_idempotency_key=True, response_hook=_on_duplicate,
)


def register_context(context) -> None:
    """Lets the idempotency layer expire an in-progress record when the Lambda times out."""
    _config.register_lambda_context(context)


def handle_payload(raw_body: str) -> None:
    """One verified webhook POST: apply every status and template news, handle every message once."""
    batch = get_provider().parse_webhook(raw_body.encode("utf-8"))
    outbound.record_statuses(batch.statuses)
    templates.apply_events(batch.templates)
    for message in batch.messages:
        _handle_once()(message=message.model_dump(mode="json"))


@lru_cache(maxsize=1)
def _handle_once():
    """The message handler wrapped in Powertools idempotency (its table client is built on first use)."""
    store = DynamoDBPersistenceLayer(table_name=table_name("idempotency"))
    return idempotent_function(data_keyword_argument="message", persistence_store=store, config=_config)(
        _handle_message)


def _handle_message(message: dict) -> None:
    msg = InboundMessage.model_validate(message)
    channel = directory.get_channel(msg.channel_id)
    if channel is None:
        logger.warning("message for an unknown channel", extra={"channel": msg.channel_id})
        return
    tenant = directory.get_tenant(channel.tenant_id)
    if tenant is None:
        logger.error("channel without tenant", extra={"channel": msg.channel_id})
        return
    now = clock.now()
    phone = _sender_phone(msg.sender_phone)
    citizen = citizens.find(channel.phone_number_id, phone, msg.sender_user_id) or Citizen(
        channel_id=channel.phone_number_id, tenant_id=tenant.id, phone=phone, user_id=msg.sender_user_id,
        created_at=now)
    citizen = replace(citizen, phone=citizen.phone or phone, user_id=msg.sender_user_id or citizen.user_id,
                      last_inbound_at=now)
    logger.info("message", extra={"channel": channel.phone_number_id, "kind": msg.kind,
                                  "citizen": mask(citizen.phone), "message_id": ref(msg.message_id)})
    if _for_agenda(channel, citizen, msg):
        from chalicelib.services.agenda import chat as agenda_chat  # lazily: `import app` stays without it

        talk = agenda_chat.handle_message(tenant, channel, citizen, msg, now)
    elif channel.kind == "broadcast":
        talk = conversation.handle_message(tenant, channel, citizen, msg, now)
    elif _is_vicinato(tenant, channel, citizen, msg):
        talk = _vicinato_relay().handle_message(tenant, channel, citizen, msg, now)
    else:
        talk = intake.handle_message(tenant, channel, citizen, msg, now)
    # every state write first, the replies last: a failure before them sends nothing, and the message comes back
    # whole; once queued, the reply job's id (from the message id) makes a redelivery send nothing more
    citizens.save(with_retention(talk.citizen, now, tenant.retention), now)
    talk.queue_replies()


def _vicinato_relay():
    """Vicinato's relay (issue 16), loaded only when a safety channel's comune runs it."""
    from chalicelib.services.vicinato import relay

    return relay


def _is_vicinato(tenant, channel, citizen: Citizen, msg: InboundMessage) -> bool:
    """A safety-channel message of Vicinato: its keywords, its buttons, someone joining or a member (docs/vicinato.md)."""
    return channel.kind == "safety" and tenant.vicinato.enabled and _vicinato_relay().claims(tenant, channel, citizen,
                                                                                           msg)
def _for_agenda(channel, citizen: Citizen, msg: InboundMessage) -> bool:
    """PRENOTA, APPUNTAMENTI, the agenda's buttons and the name it asked for, where the channel books (issue 17)."""
    from chalicelib.services.agenda import chat as agenda_chat

    return agenda_chat.wants(channel, citizen, msg)


def _sender_phone(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        return normalize(raw)
    except InvalidPhone:
        return raw  # the provider's own id of the sender: keep it as given
