"""Audience sizes from the counts kept per cell (domain.audiences): what a preview costs whatever the channel's size,
and the nightly reconciliation that recounts every channel and fixes (and reports) any drift."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain import audiences as cells
from chalicelib.domain.broadcasts import SERVICE_WINDOW, Audience
from chalicelib.observability import count as count_metric
from chalicelib.observability import logger
from chalicelib.store import audiences, citizens, directory


@dataclass(frozen=True)
class Reach:
    recipients: int
    outside_window: int  # of them, those whose last message is older than 24 hours (or who never wrote)


def reach(channel_id: str, audience: Audience, now: datetime) -> Reach:
    """How many active subscribers an audience reaches, and how many of them are outside the 24-hour window: one
    Query of the channel's cells, and one per UTC day of the subscribers who wrote in the last 24 hours."""
    recipients = cells.count(audience, audiences.cells(channel_id))
    inside = citizens.count_recent(channel_id, now - SERVICE_WINDOW, now, audience.hamlets, audience.topics)
    return Reach(recipients, max(recipients - inside, 0))


def active_count(channel_id: str) -> int:
    """Active subscribers of a channel, from its cells."""
    return cells.count(Audience(), audiences.cells(channel_id))


def reconcile_channel(channel_id: str) -> dict:
    """Recount a channel's active subscribers per cell and set each cell that drifted to its recount. A cell whose
    count moved while the recount ran (a subscription changed meanwhile) is left alone for the next night: it is
    fixed only with a conditional write on the value read before the recount."""
    before = audiences.cells(channel_id)
    counted = cells.tally((c.active, c.hamlets, c.topics) for c in citizens.active_choices(channel_id))
    after = audiences.cells(channel_id)
    fixed, busy = {}, []
    for cell, difference in cells.drift(after, counted).items():
        if before.get(cell, 0) != after.get(cell, 0):
            busy.append(cell)
        elif audiences.correct(channel_id, cell, after.get(cell, 0), counted.get(cell, 0)):
            fixed[cell] = difference
        else:
            busy.append(cell)
    return {"subscribers": sum(counted.values()), "cells": len(counted), "fixed": fixed, "busy": busy}


def reconcile() -> dict:
    """The nightly schedule: every channel of every comune recounted; drift logged (as a warning) and counted."""
    report = {"channels": 0, "subscribers": 0, "drifted_cells": 0, "busy_cells": 0}
    for tenant in directory.tenants():
        for channel in directory.channels_of(tenant.id):
            result = reconcile_channel(channel.phone_number_id)
            report["channels"] += 1
            report["subscribers"] += result["subscribers"]
            report["drifted_cells"] += len(result["fixed"])
            report["busy_cells"] += len(result["busy"])
            if result["fixed"]:
                logger.warning("audience counts drifted and were fixed",
                               extra={"channel": channel.phone_number_id, "drift": result["fixed"]})
                for _ in result["fixed"]:
                    count_metric("AudienceCountDrift", channel=channel.phone_number_id)
    return report
