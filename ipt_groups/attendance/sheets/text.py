"""Wording and number formats shared by the sheet renderers."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

COMPLETION_LABELS = {
    "not_started": "Not started",
    "on_track": "On track",
    "at_risk": "At risk",
    "cannot_complete": "Cannot complete",
    "completed": "Completed",
    "not_completed": "Not completed",
}
PHASE_LABELS = {"initial": "Initial", "middle": "Middle", "termination": "Termination"}
# our own names, so a server locale can't turn "Tuesday" into "mardi" on one machine only
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")  # fmt: skip


def percent(rate: float | None) -> str:
    """A rate as a whole percent with no sign ("75"), or "" when there is none."""
    return "" if rate is None else str(round(rate * 100))


def local(instant: datetime, tz: str) -> datetime:
    """An aware instant on the group's wall clock."""
    return instant.astimezone(ZoneInfo(tz))


def long_date(instant: datetime, tz: str) -> str:
    """ "Tuesday 1 December 2026" in the group's timezone."""
    d = local(instant, tz)
    return f"{DAY_NAMES[d.weekday()]} {d.day} {MONTH_NAMES[d.month - 1]} {d.year}"


def short_date(instant: datetime, tz: str) -> str:
    """ "1 Dec" in the group's timezone: unambiguous where 1/12 is not."""
    d = local(instant, tz)
    return f"{d.day} {MONTH_NAMES[d.month - 1][:3]}"


def clock(instant: datetime, tz: str) -> str:
    """ "18:00" in the group's timezone."""
    return local(instant, tz).strftime("%H:%M")
