"""Two-way conversations (domain/conversations.py): one item per channel and citizen, read-modify-write with a
version check, the latest messages only, expiring after the tenant's retention."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.domain.conversations import Conversation, Message, conversation_id
from chalicelib.store.dynamo import is_conditional
from chalicelib.store.models import ConversationModel

MAX_UPDATE_ATTEMPTS = 5
UNREAD_COUNT_MAX = 999  # the badge says "999" past it: a Query of the sparse index, never the whole table


class Conflict(Exception):
    """The conversation kept changing under the write."""


def _message(raw: dict) -> Message:
    return Message(id=raw["id"], direction=raw["direction"], at=datetime.fromisoformat(raw["at"]), text=raw["text"],
                   kind=raw.get("kind", "text"), author=raw.get("author"), author_name=raw.get("author_name"))


def _raw(message: Message) -> dict:
    raw = {"id": message.id, "direction": message.direction, "at": message.at.isoformat(), "text": message.text,
           "kind": message.kind, "author": message.author, "author_name": message.author_name}
    return {k: v for k, v in raw.items() if v is not None}


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _to_domain(m: ConversationModel) -> Conversation:
    return Conversation(
        tenant_id=m.tenant_id, channel_id=m.channel_id, citizen_key=m.citizen_key, kind=m.kind, phone=m.phone,
        user_id=m.user_id, name=m.name, messages=tuple(_message(r) for r in m.messages or ()), status=m.status,
        unread=bool(m.unread_tenant), assignee=m.assignee, assignee_name=m.assignee_name, last_at=_time(m.last_at),
        last_inbound_at=_time(m.last_inbound_at), expires_at=m.expires_at,
    )


def _to_model(c: Conversation, version: int | None) -> ConversationModel:
    model = ConversationModel(
        c.tenant_id, c.id, channel_id=c.channel_id, citizen_key=c.citizen_key, kind=c.kind, phone=c.phone,
        user_id=c.user_id, name=c.name, messages=[_raw(m) for m in c.messages], status=c.status,
        unread_tenant=c.tenant_id if c.unread else None, assignee=c.assignee, assignee_name=c.assignee_name,
        last_at=(c.last_at.isoformat() if c.last_at else ""), last_inbound_at=(
            c.last_inbound_at.isoformat() if c.last_inbound_at else None), expires_at=c.expires_at,
    )
    if version is not None:
        model.version = version
    return model


def _get_model(tenant_id: str, channel_id: str, citizen_key: str) -> ConversationModel | None:
    try:
        return ConversationModel.get(tenant_id, conversation_id(channel_id, citizen_key), consistent_read=True)
    except DoesNotExist:
        return None


def get(tenant_id: str, channel_id: str, citizen_key: str) -> Conversation | None:
    model = _get_model(tenant_id, channel_id, citizen_key)
    return _to_domain(model) if model else None


def change(tenant_id: str, channel_id: str, citizen_key: str,
           edit: Callable[[Conversation | None], Conversation | None]) -> Conversation | None:
    """Read, apply edit (None in: no conversation yet; None out: nothing to write), write back if nobody wrote in
    between; retried on a race."""
    for _ in range(MAX_UPDATE_ATTEMPTS):
        model = _get_model(tenant_id, channel_id, citizen_key)
        current = _to_domain(model) if model else None
        updated = edit(current)
        if updated is None or updated == current:
            return current
        fresh = _to_model(updated, model.version if model else None)
        try:
            fresh.save()
            return _to_domain(fresh)
        except PutError as error:
            if not is_conditional(error):
                raise
    raise Conflict(conversation_id(channel_id, citizen_key))


def latest(tenant_id: str, limit: int, accept: Callable[[Conversation], bool], unread_only: bool = False,
           pages: int = 5) -> list[Conversation]:
    """A comune's conversations by their last message, newest first, the first `limit` that accept takes (the
    caller's channels, a status): at most `pages` Query pages are read."""
    index = ConversationModel.unread if unread_only else ConversationModel.by_activity
    found: list[Conversation] = []
    result = index.query(tenant_id, scan_index_forward=False, page_size=max(limit, 25))
    for count, model in enumerate(result):
        conversation = _to_domain(model)
        if accept(conversation):
            found.append(conversation)
            if len(found) >= limit:
                break
        if count >= pages * max(limit, 25):
            break
    return found


def unread_count(tenant_id: str, channel_ids: Iterable[str]) -> int:
    """How many conversations of these channels have a message no staff member opened (up to UNREAD_COUNT_MAX)."""
    channels = list(channel_ids)
    if not channels:
        return 0
    condition = ConversationModel.channel_id.is_in(*channels)
    total = 0
    for _ in ConversationModel.unread.query(tenant_id, filter_condition=condition,
                                            attributes_to_get=["tenant_id", "conversation_id", "channel_id"]):
        total += 1
        if total >= UNREAD_COUNT_MAX:
            break
    return total


def for_citizen(tenant_id: str, channel_ids: Iterable[str], citizen_key: str) -> list[Conversation]:
    """A citizen's conversations on these channels of the comune (one read each): for a per-citizen view."""
    found = [get(tenant_id, channel_id, citizen_key) for channel_id in channel_ids]
    return [c for c in found if c is not None]


def delete(tenant_id: str, channel_id: str, citizen_key: str) -> bool:
    model = _get_model(tenant_id, channel_id, citizen_key)
    if model is None:
        return False
    ConversationModel(tenant_id, conversation_id(channel_id, citizen_key)).delete(add_version_condition=False)
    return True
