"""Weekly slots on the real dates of a cycle: DST gaps and folds, time zones, and who fits which slot."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from ipt_groups.availability import Window
from ipt_groups.grouping.model import Policy
from ipt_groups.vocabulary import DAYS

WEEK = 7 * 1440


@dataclass(frozen=True)
class Slot:
    """A weekly session start: a day and local start minute in the group's (facilitator's) timezone."""

    index: int
    timezone: str
    day: int
    start: int
    utc_starts: tuple[datetime, ...]

    @property
    def label(self) -> str:
        return f"{DAYS[self.day]} {self.start // 60:02d}:{self.start % 60:02d} {self.timezone}"


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """A cached ZoneInfo."""
    return ZoneInfo(name)


def session_dates(first: date, day: int, weeks: int) -> list[date]:
    """The cycle's dates for a weekday: first date >= `first` on that weekday, then weekly."""
    first_on_day = first + timedelta(days=(day - first.weekday()) % 7)
    return [first_on_day + timedelta(days=7 * k) for k in range(weeks)]


def unambiguous_start(day: date, minutes: int, tz: ZoneInfo) -> datetime | None:
    """The aware local start, or None when that wall time falls in a DST gap or fold."""
    early = datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=tz)
    late = early.replace(fold=1)
    return early if early.utcoffset() == late.utcoffset() else None


def slot_utc_starts(policy: Policy, tz_name: str, day: int, start: int) -> tuple[datetime, ...] | None:
    """UTC start of every week's session, or None if any week's start is skipped or repeated by DST."""
    starts = []
    for d in session_dates(policy.first_session_date, day, policy.weeks):
        local = unambiguous_start(d, start, zone(tz_name))
        if local is None:
            return None
        starts.append(local.astimezone(UTC))
    return tuple(starts)


def build_slots(policy: Policy, timezones: list[str]) -> list[Slot]:
    """Every valid slot on the step grid for each group timezone."""
    slots: list[Slot] = []
    for tz_name in sorted(set(timezones)):
        for day in range(7):
            for start in range(0, 1440, policy.slot_step_minutes):
                utc_starts = slot_utc_starts(policy, tz_name, day, start)
                if utc_starts is not None:
                    slots.append(Slot(len(slots), tz_name, day, start, utc_starts))
    return slots


def local_span(utc_start: datetime, minutes: int, tz: ZoneInfo) -> tuple[int, int]:
    """A session as (start, end) minutes of the local week; end may pass the week's end (wraps)."""
    start = utc_start.astimezone(tz)
    end = (utc_start + timedelta(minutes=minutes)).astimezone(tz)
    wall = int((end.replace(tzinfo=None) - start.replace(tzinfo=None)).total_seconds() // 60)
    a = start.weekday() * 1440 + start.hour * 60 + start.minute
    return a, a + wall


def week_intervals(windows: tuple[Window, ...]) -> tuple[list[int], list[int]]:
    """Windows as merged minute-of-week intervals over two weeks, so sessions may wrap past Sunday."""
    base = sorted(
        (DAYS.index(w.day) * 1440 + w.start_minutes, DAYS.index(w.day) * 1440 + w.end_minutes)
        for w in windows
    )
    merged: list[list[int]] = []
    for a, b in base + [(a + WEEK, b + WEEK) for a, b in base]:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [a for a, _ in merged], [b for _, b in merged]


def inside(intervals: tuple[list[int], list[int]], a: int, b: int) -> bool:
    """Whether the span [a, b) lies within one interval."""
    starts, ends = intervals
    i = bisect_right(starts, a) - 1
    return i >= 0 and ends[i] >= b


class SlotTable:
    """The slot grid of a cycle, with cached spans per viewer timezone and fits per availability."""

    def __init__(self, policy: Policy, group_timezones: list[str]):
        self.policy = policy
        self.slots = build_slots(policy, group_timezones)
        self._spans: dict[str, tuple[list[int], list[tuple]]] = {}
        self._fits: dict[tuple, tuple[int, ...]] = {}

    def _spans_for(self, tz_name: str) -> tuple[list[int], list[tuple]]:
        """Slots seen from `tz_name`: week-0 span plus the other weeks' distinct spans, sorted by start."""
        if tz_name not in self._spans:
            tz, minutes = zone(tz_name), self.policy.session_minutes
            rows = []
            for slot in self.slots:
                spans = [local_span(u, minutes, tz) for u in slot.utc_starts]
                rows.append((*spans[0], slot.index, tuple(set(spans[1:]) - {spans[0]})))
            rows.sort()
            self._spans[tz_name] = ([r[0] for r in rows], rows)
        return self._spans[tz_name]

    def fitting(self, tz_name: str, windows: tuple[Window, ...]) -> tuple[int, ...]:
        """Indices of slots whose every weekly session lies inside these windows (in `tz_name`)."""
        key = (tz_name, windows)
        if key not in self._fits:
            self._fits[key] = self._compute_fit(tz_name, windows)
        return self._fits[key]

    def _compute_fit(self, tz_name: str, windows: tuple[Window, ...]) -> tuple[int, ...]:
        if not windows:
            return ()
        intervals = week_intervals(windows)
        starts, rows = self._spans_for(tz_name)
        found = []
        for lo, hi in zip(*intervals, strict=True):
            if lo >= WEEK:
                break
            for _a, b, index, extra in rows[bisect_left(starts, lo) : bisect_left(starts, min(hi, WEEK))]:
                if b <= hi and all(inside(intervals, x, y) for x, y in extra):
                    found.append(index)
        return tuple(sorted(found))

    def local_week_span(self, slot: Slot) -> tuple[int, int]:
        """The slot's span in its own timezone's wall time (used for facilitator overlap)."""
        a = slot.day * 1440 + slot.start
        return a, a + self.policy.session_minutes


def spans_overlap(x: tuple[int, int], y: tuple[int, int]) -> bool:
    """Whether two minute-of-week spans overlap, allowing for wrap past Sunday midnight."""
    return any(x[0] < y[1] + k and y[0] + k < x[1] for k in (-WEEK, 0, WEEK))
