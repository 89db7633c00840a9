"""The fan-out: a running broadcast's audience, page by page into outbound jobs, checkpointed after each page."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.observability import logger
from chalicelib.services import abuse, clock
from chalicelib.services.broadcasts.notice import message_for
from chalicelib.services.broadcasts.schedule import hand_to_fanout
from chalicelib.services.messaging import outbound, progress
from chalicelib.store import broadcasts, citizens, directory
from chalicelib.store.broadcasts import Broadcast

PAGE_SIZE = 500  # subscribers read per fan-out page (one Query, one checkpoint)
CHUNK_SIZE = 40  # recipients per outbound job: with the broadcast, 81 keys fit one BatchGetItem
FANOUT_TIME_BUDGET = timedelta(minutes=10)  # then the fan-out hands over to a fresh invocation


def fan_out_message(body: dict) -> None:
    """A fan-out job from its queue; a long audience continues in a fresh message (and invocation)."""
    tenant_id, broadcast_id = body["tenant_id"], body["broadcast_id"]
    broadcast = broadcasts.get(tenant_id, broadcast_id)
    if broadcast is None:
        logger.warning("fan-out for a missing broadcast", extra={"broadcast_id": broadcast_id})
        return
    channel, tenant = directory.get_channel(broadcast.channel_id), directory.get_tenant(tenant_id)
    if fan_out(broadcast, channel, tenant):
        hand_to_fanout(tenant_id, broadcast_id)


def fan_out(broadcast: Broadcast, channel: Channel, tenant: Tenant) -> bool:
    """Page the audience into outbound jobs from the broadcast's checkpoint on; True when it must continue
    elsewhere (a fresh invocation)."""
    started = clock.now()
    tenant_id, broadcast_id = broadcast.tenant_id, broadcast.id
    while broadcast.status == "sending" and not broadcast.fanout_done:
        if broadcast.audience.zones:  # a Vicinato notice: the zones' people (services/vicinato/notices.py)
            from chalicelib.services.vicinato import notices

            chosen, next_cursor = notices.audience_page(broadcast, PAGE_SIZE)
        else:
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
