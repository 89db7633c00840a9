"""What the staff console reads besides the records themselves: the comune's set-up and subscribers over time."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from chalicelib.domain import geo
from chalicelib.domain.subscriptions import Citizen
from chalicelib.domain.tenancy import Channel, Tenant
from chalicelib.services import clock
from chalicelib.store import citizens

ROME = ZoneInfo("Europe/Rome")
MAX_WEEKS = 104
GROWTH_PAGE = 500


def tenant_view(tenant: Tenant) -> dict:
    """The comune's hamlets (a GeoJSON FeatureCollection), topics and report set-up: no personal data."""
    reports = tenant.reports
    return {
        "id": tenant.id, "name": tenant.name,
        "hamlets": geo.hamlet_features(tenant.hamlets),
        "topics": [{"id": t.id, "name": t.name} for t in tenant.topics],
        "categories": [{"id": c.id, "name": c.name, "team": c.team, "external_body": c.external_body}
                       for c in reports.categories],
        "teams": [{"id": t.id, "name": t.name} for t in reports.teams],
        "external_bodies": [{"id": b.id, "name": b.name} for b in reports.external_bodies],
    }


def weekly_active(people: Iterable[Citizen], weeks: int, now: datetime) -> list[dict]:
    """Active subscribers at the end of each of the last `weeks` ISO weeks (Europe/Rome), the current one last.

    Someone counts from subscribed_at until stopped_at; records erased since are gone, and so are their weeks."""
    today = now.astimezone(ROME).date()
    monday = today - timedelta(days=today.weekday())
    ends = [datetime.combine(monday - timedelta(weeks=n - 1), datetime.min.time(), ROME) + timedelta(days=7)
            for n in range(weeks, 0, -1)]
    spans = [(c.subscribed_at, c.stopped_at if c.status != "active" else None) for c in people if c.subscribed_at]
    answer = []
    for end in ends:
        cut = min(end, now)
        year, week, _ = (end - timedelta(days=1)).isocalendar()
        count = sum(1 for start, stop in spans if start <= cut and (stop is None or stop > cut))
        answer.append({"week": f"{year}-W{week:02d}", "active": count})
    return answer


def subscriber_growth(channel: Channel, weeks: int) -> dict:
    """Active subscribers per week on a broadcast channel, and how many are active now."""
    people: list[Citizen] = []
    cursor = None
    while True:
        page, cursor = citizens.page(channel.phone_number_id, None, None, GROWTH_PAGE, cursor)
        people.extend(page)
        if cursor is None:
            break
    return {"channel": channel.phone_number_id, "active": sum(1 for c in people if c.active),
            "weeks": weekly_active(people, weeks, clock.now())}
