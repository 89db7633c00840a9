"""A citizen on a channel and the rules of subscribing: double opt-in, preferences, opt-out."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from chalicelib.domain.phones import citizen_key
from chalicelib.domain.settings import DEFAULT_RETENTION, Retention

PENDING_LIFETIME = timedelta(days=7)  # an unconfirmed request is forgotten after this
STATUSES = ("none", "pending", "active", "stopped")


@dataclass(frozen=True)
class Citizen:
    channel_id: str
    tenant_id: str
    phone: str | None = None
    user_id: str | None = None
    status: str = "none"
    hamlets: tuple[str, ...] = ()  # empty: every hamlet
    topics: tuple[str, ...] = ()  # empty: every topic
    step: str | None = None
    source: str | None = None
    name: str | None = None
    address: str | None = None
    hamlet: str | None = None
    created_at: datetime | None = None
    subscribed_at: datetime | None = None
    stopped_at: datetime | None = None
    last_inbound_at: datetime | None = None
    expires_at: datetime | None = None

    @property
    def key(self) -> str:
        return citizen_key(self.phone, self.user_id)

    @property
    def active(self) -> bool:
        return self.status == "active"


def request(citizen: Citizen, source: str, now: datetime,
            hamlets: tuple[str, ...] = (), topics: tuple[str, ...] = ()) -> Citizen:
    """Start a double opt-in: nothing is sent until the citizen confirms."""
    return replace(citizen, status="pending", step="confirm", source=source,
                   hamlets=hamlets or citizen.hamlets, topics=topics or citizen.topics,
                   expires_at=now + PENDING_LIFETIME)


def confirm(citizen: Citizen, now: datetime) -> Citizen:
    return replace(citizen, status="active", step="hamlets", subscribed_at=now, stopped_at=None,
                   expires_at=None)


def activate_by_staff(citizen: Citizen, now: datetime, hamlets: tuple[str, ...], topics: tuple[str, ...]) -> Citizen:
    """Staff add or import a subscriber whose consent the comune holds."""
    return replace(citizen, status="active", step=None, source="staff", hamlets=hamlets, topics=topics,
                   subscribed_at=now, stopped_at=None, expires_at=None)


def decline(citizen: Citizen, now: datetime) -> Citizen:
    return replace(citizen, status="none", step=None, expires_at=now + PENDING_LIFETIME)


def stop(citizen: Citizen, now: datetime) -> Citizen:
    """Opt-out: effective at once for every further send."""
    return replace(citizen, status="stopped", step=None, stopped_at=now)


def choose_hamlet(citizen: Citizen, hamlet_id: str | None) -> Citizen:
    """One hamlet, or None for all of them; then the topic question."""
    return replace(citizen, hamlets=(hamlet_id,) if hamlet_id else (), step="topics")


def choose_topic(citizen: Citizen, topic_id: str | None) -> Citizen:
    return replace(citizen, topics=(topic_id,) if topic_id else (), step=None)


INACTIVE_LIFETIME = DEFAULT_RETENTION.days("inactive_citizens")  # the default: a tenant may set its own


def with_retention(citizen: Citizen, now: datetime, retention: Retention = DEFAULT_RETENTION) -> Citizen:
    """Keep a record only while it serves: active for good, pending until it lapses (7 days), anyone else (stopped,
    declined, a sender of reports) the tenant's `inactive_citizens` days after their last message."""
    if citizen.status == "active":
        return replace(citizen, expires_at=None)
    if citizen.status == "pending":
        return citizen
    return replace(citizen, expires_at=now + retention.days("inactive_citizens"))
