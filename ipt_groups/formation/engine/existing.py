"""Groups facilitators already lead: when they meet, and which new slots that rules out.

Commit (groups.operations.first_clash) treats every group that is forming, scheduled or running as
meeting every week: a new group clashes with it if, in any week of a year, their sessions overlap (modulo
a week, so a Sunday-night slot in one zone can meet a Monday-morning one in another). `weekly_clash` is
that rule. A group given with its dates (a planning file may say when its cycle runs) clashes only on
those dates.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from ipt_groups.formation.engine.model import ExistingGroup, Facilitator, Policy
from ipt_groups.formation.engine.slots import Offsets, Slot, session_dates, spans_overlap, zone

YEAR_WEEKS = 53  # as commit: a year of weeks meets every DST change of either zone
_WEEK = timedelta(days=7)


def wall_start(day: date, minutes: int, tz_name: str) -> datetime:
    """The UTC start of a wall-clock time, as a group's session starts: a time in a DST gap moves
    forward by the gap, one in a fold is the first (PEP 495's fold=0 gives both)."""
    local = datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=zone(tz_name))
    return local.astimezone(UTC)


def weekly_starts(group: ExistingGroup, first: date, weeks: int) -> list[datetime]:
    """UTC starts of a weekly group from its first day on or after `first`, for `weeks` weeks."""
    return [wall_start(d, group.start, group.timezone) for d in session_dates(first, group.day, weeks)]


def session_starts(group: ExistingGroup) -> list[datetime]:
    """UTC starts of a group given with its dates, sorted."""
    return sorted(wall_start(d, group.start, group.timezone) for d in group.dates or ())


def weekly_clash(a: ExistingGroup, b: ExistingGroup, first: date) -> bool:
    """Whether two weekly groups' sessions overlap in some week of the year from `first` (commit's rule)."""
    length_a, length_b = timedelta(minutes=a.session_minutes), timedelta(minutes=b.session_minutes)
    pairs = zip(weekly_starts(a, first, YEAR_WEEKS), weekly_starts(b, first, YEAR_WEEKS), strict=True)
    for start_a, start_b in pairs:
        delta = (start_b - start_a) % _WEEK
        if delta < length_a or _WEEK - delta < length_b:
            return True
    return False


def dated_clash(group: ExistingGroup, starts: tuple[datetime, ...], minutes: int) -> bool:
    """Whether sessions at `starts` (each `minutes` long) overlap a session of a group with dates."""
    theirs = session_starts(group)
    mine, length = timedelta(minutes=minutes), timedelta(minutes=group.session_minutes)
    for a in starts:
        i = bisect_right(theirs, a - length)  # the first of theirs still running after `a`
        if i < len(theirs) and theirs[i] < a + mine:
            return True
    return False


class Calendar:
    """Which slots each facilitator's existing groups rule out, computed fast: a weekly group's sessions
    over the year become spans of the facilitator's local week (a few distinct ones, as DST moves them)."""

    def __init__(self, policy: Policy):
        self.policy = policy
        first = datetime.combine(policy.first_session_date, datetime.min.time(), UTC) - _WEEK
        self._range = (first, first + (YEAR_WEEKS + 2) * _WEEK)
        self._offsets: dict[str, Offsets] = {}

    def blocked(
        self, fac: Facilitator, slots: list[Slot], span: Callable[[Slot], tuple[int, int]]
    ) -> set[int]:
        """Indices of the facilitator's slots (`span` gives one's local week span) that one of their
        existing groups rules out."""
        weekly = [self._local_spans(g, fac.timezone) for g in fac.existing if g.dates is None]
        spans = {x for group_spans in weekly for x in group_spans}
        dated = [g for g in fac.existing if g.dates is not None]
        minutes = self.policy.session_minutes
        return {
            s.index
            for s in slots
            if any(spans_overlap(span(s), x) for x in spans)
            or any(dated_clash(g, s.utc_starts, minutes) for g in dated)
        }

    def _local_spans(self, group: ExistingGroup, tz_name: str) -> set[tuple[int, int]]:
        if tz_name not in self._offsets:
            self._offsets[tz_name] = Offsets(zone(tz_name), *self._range)
        offsets = self._offsets[tz_name]
        starts = weekly_starts(group, self.policy.first_session_date, YEAR_WEEKS)
        return {offsets.span(u, group.session_minutes) for u in starts}
