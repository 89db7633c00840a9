"""How a running broadcast ends: completed when every recipient is settled, paused on a fatal error."""
from __future__ import annotations

from chalicelib.domain.broadcasts import is_finished
from chalicelib.observability import logger
from chalicelib.providers.base import ProviderError
from chalicelib.services import clock
from chalicelib.store import broadcasts
from chalicelib.store.broadcasts import Broadcast


def complete_if_done(broadcast: Broadcast) -> bool:
    if broadcast.status != "sending" or not is_finished(broadcast.counters, broadcast.fanout_done):
        return False
    done = broadcasts.transition(broadcast.tenant_id, broadcast.id, {"sending"}, "completed", clock.now())
    if done:
        logger.info("broadcast completed", extra={"broadcast_id": broadcast.id,
                                                  "recipients": broadcast.counters.recipients})
    return done


def pause_for_error(tenant_id: str, broadcast_id: str, error: ProviderError) -> None:
    """Stop burning through the audience: staff read the reason and resume once it is fixed."""
    reason = f"WhatsApp refused the channel (code {error.code}): {error.message}"[:500]
    if broadcasts.transition(tenant_id, broadcast_id, {"sending"}, "paused", clock.now(), reason=reason):
        logger.error("broadcast paused by a fatal provider error", extra={"broadcast_id": broadcast_id,
                                                                          "code": error.code})
