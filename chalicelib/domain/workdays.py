"""Working days of an Italian comune: Monday to Friday, less the national holidays (Easter Monday and, from 2026,
San Francesco on 4 October included: the `holidays` library keeps the list, with its laws), the comune's patron
saint's day and its extra closures (tenant data, domain/settings.Calendar).

A target of N working days from a moment ends at the close (midnight, the comune's time) of the Nth working day
after the moment's own day: a report received on Friday afternoon with 2 working days is due by the end of
Tuesday, or Wednesday when Tuesday is a holiday.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")
MAX_DAYS = 365  # the longest target; a search past it never ends on a calendar of closures only


@cache
def national_holidays(year: int) -> frozenset[date]:
    """Italy's national holidays of a year (imported when first needed: the library is large, `import app` is not)."""
    from holidays.countries.italy import Italy

    return frozenset(Italy(years=year))


@dataclass(frozen=True)
class WorkCalendar:
    """A comune's working days: patron_day is (month, day); closures are extra days the offices are shut."""

    patron_day: tuple[int, int] | None = None
    closures: frozenset[date] = field(default_factory=frozenset)
    zone: ZoneInfo = ROME

    @classmethod
    def of(cls, patron_day: str | None = None, closures: Iterable[date] = ()) -> WorkCalendar:
        """From the tenant's calendar: patron_day as "MM-DD"."""
        month_day = tuple(int(part) for part in patron_day.split("-")) if patron_day else None
        return cls(month_day, frozenset(closures))

    def is_working_day(self, day: date) -> bool:
        return (day.weekday() < 5 and day not in national_holidays(day.year)
                and (day.month, day.day) != self.patron_day and day not in self.closures)

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def add_working_days(self, start: date, days: int) -> date:
        """The days-th working day after start (start itself not counted); start when days is 0."""
        if not 0 <= days <= MAX_DAYS:
            raise ValueError(f"days must be from 0 to {MAX_DAYS}")
        day, left = start, days
        while left:
            day += timedelta(days=1)
            left -= self.is_working_day(day)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after start up to and including end (0 when end is not after start)."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count

    def end_of(self, day: date) -> datetime:
        """The close of a day in the comune's time: the first moment of the next one."""
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone)

    def due(self, moment: datetime, days: int) -> tuple[date, datetime]:
        """The last day to meet a target of days working days from moment, and the moment it is missed."""
        last = self.add_working_days(self.local_day(moment), days)
        return last, self.end_of(last)
