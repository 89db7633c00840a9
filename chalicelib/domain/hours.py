"""Hours in Europe/Rome: quiet hours for broadcasts, watched hours for the safety line."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")


@dataclass(frozen=True)
class DailyWindow:
    """A window of the day in local time; it may cross midnight (21:00-08:00)."""

    start: time
    end: time
    zone: ZoneInfo = ROME

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_end(self, moment: datetime) -> datetime:
        """The first end of the window after moment (in UTC-aware form), DST handled by the zone."""
        local = moment.astimezone(self.zone)
        candidate = datetime.combine(local.date(), self.end, tzinfo=self.zone)
        while candidate <= local:
            candidate = datetime.combine(candidate.date() + timedelta(days=1), self.end, tzinfo=self.zone)
        return candidate.astimezone(moment.tzinfo)


def outside(window: DailyWindow | None, moment: datetime) -> datetime:
    """moment itself when it is outside the window, else the window's end."""
    if window is None or not window.contains(moment):
        return moment
    return window.next_end(moment)
