"""When a message may go: quiet hours in each recipient's own timezone (pure: no Flask, no database).

Quiet hours are [start, end) in the recipient's own timezone; start > end crosses midnight; start == end
means no quiet hours. A message without a deadline found due in quiet hours waits for their end; how a
reminder is moved earlier to avoid them is the cycle's rule (cycles/calendar.py, plan_reminder).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def _utc_at(day: date, t: time, tz: str) -> datetime:
    # fold=0: a wall time in a DST fold is its first occurrence (the cycle calendar's rule too)
    return datetime.combine(day, t.replace(tzinfo=None, fold=0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


@dataclass(frozen=True)
class QuietHours:
    """Local hours [start, end) when no message is sent; start > end crosses midnight."""

    start: time = time(21, 0)
    end: time = time(8, 0)

    @property
    def crosses_midnight(self) -> bool:
        return self.start > self.end

    def contains(self, t: time) -> bool:
        """Whether local wall time `t` is quiet."""
        t = t.replace(tzinfo=None, fold=0)
        if self.crosses_midnight:
            return t >= self.start or t < self.end
        return self.start <= t < self.end


def in_quiet_hours(instant_utc: datetime, tz: str, quiet: QuietHours) -> bool:
    """Whether `instant_utc` falls in quiet hours on the wall clock of `tz`."""
    return quiet.contains(instant_utc.astimezone(ZoneInfo(tz)).time())


def defer_out_of_quiet(instant: datetime, tz: str, quiet: QuietHours) -> datetime:
    """`instant` itself if allowed, otherwise the end of the quiet hours it falls in."""
    if not in_quiet_hours(instant, tz, quiet):
        return instant
    local = instant.astimezone(ZoneInfo(tz))
    day = local.date()
    if quiet.crosses_midnight and local.time() >= quiet.start:
        day += timedelta(days=1)  # before midnight: quiet hours end tomorrow morning
    return _utc_at(day, quiet.end, tz)
