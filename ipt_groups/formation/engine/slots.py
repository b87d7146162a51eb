"""Weekly slots on the real dates of a cycle: DST gaps and folds, time zones, and who fits which slot."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from ipt_groups.formation.engine.model import Policy
from ipt_groups.people.availability import Window
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


class Offsets:
    """A zone's UTC offset over a stretch of time, as the minutes at which it changes: local spans by
    integer arithmetic instead of two datetime conversions each (Context builds tens of thousands)."""

    _PROBE = 3600  # seconds between probes; a change between two probes is found to the minute

    def __init__(self, tz: ZoneInfo, first: datetime, last: datetime):
        self.tz = tz
        lo = int(first.timestamp()) // self._PROBE * self._PROBE - 86400
        hi = int(last.timestamp()) + 86400
        self.changes: list[int] = []  # UTC minutes where a new offset starts
        self.offsets: list[int] = [self._offset(lo)]  # offset (minutes) before each change, then after
        for t in range(lo + self._PROBE, hi + self._PROBE, self._PROBE):
            if self._offset(t) != self.offsets[-1]:
                self.changes.append(self._first_minute(t - self._PROBE, t))
                self.offsets.append(self._offset(t))

    def _offset(self, seconds: int) -> int:
        return int(datetime.fromtimestamp(seconds, self.tz).utcoffset().total_seconds()) // 60

    def _first_minute(self, before: int, after: int) -> int:
        """The first UTC minute in (before, after] with the offset seen at `after` (binary search)."""
        lo, hi, target = before // 60, after // 60, self._offset(after)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if self._offset(mid * 60) == target else (mid, hi)
        return hi

    def local_minute(self, utc_minute: int) -> int:
        """Local wall-clock minutes since the epoch for a UTC minute since the epoch."""
        return utc_minute + self.offsets[bisect_right(self.changes, utc_minute)]

    def span(self, utc_start: datetime, minutes: int) -> tuple[int, int]:
        """local_span's result, by arithmetic."""
        u = int(utc_start.timestamp()) // 60
        start, end = self.local_minute(u), self.local_minute(u + minutes)
        a = (start // 1440 + 3) % 7 * 1440 + start % 1440  # the epoch's first day was a Thursday
        return a, a + end - start


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
        every = [u for slot in self.slots for u in slot.utc_starts]
        self._range = (min(every), max(every) + timedelta(minutes=policy.session_minutes)) if every else None

    def _spans_for(self, tz_name: str) -> tuple[list[int], list[tuple]]:
        """Slots seen from `tz_name`: week-0 span plus the other weeks' distinct spans, sorted by start."""
        if tz_name not in self._spans:
            minutes, rows = self.policy.session_minutes, []
            offsets = Offsets(zone(tz_name), *self._range) if self._range else None
            for slot in self.slots:
                spans = [offsets.span(u, minutes) for u in slot.utc_starts]
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
