"""Starting broadcasts: the every-minute claim of due ones (conditional, so never twice) and the hand-over to the fan-out."""
from __future__ import annotations

from chalicelib.observability import logger
from chalicelib.services import clock
from chalicelib.store import broadcasts, queues
from chalicelib.store.broadcasts import Broadcast


def start(broadcast: Broadcast) -> bool:
    """Claim a due broadcast (scheduled -> sending, conditionally) and hand it to the fan-out."""
    if not broadcasts.transition(broadcast.tenant_id, broadcast.id, {"scheduled"}, "sending", clock.now()):
        return False  # another trigger claimed it first
    hand_to_fanout(broadcast.tenant_id, broadcast.id)
    logger.info("broadcast started", extra={"broadcast_id": broadcast.id})
    return True


def hand_to_fanout(tenant_id: str, broadcast_id: str) -> None:
    queues.send("fanout", {"tenant_id": tenant_id, "broadcast_id": broadcast_id})


def start_due() -> int:
    """The every-minute schedule: start what is due; two triggers never start one broadcast twice."""
    return sum(1 for b in broadcasts.due(clock.now()) if start(b))
