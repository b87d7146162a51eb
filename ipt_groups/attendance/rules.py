"""Attendance rules: per-phase tallies, completion, absence runs and outreach (the sheet: reports.py).

Pure functions over plain data: no Flask, no database, no clock (callers pass `now`). Instants are
timezone-aware UTC. Renderers for the sheet (JSON, CSV, PDF, iCalendar) live in ipt_groups/attendance/sheets/.

Rules
-----
What counts. Only sessions with status "held" count as held; a cancelled session never counts, as held or
as remaining. A "scheduled" session is remaining even if its start has passed: its record may still come.
A moved session keeps its number and phase and counts by its new date. A member is expected at a session
when its local date is in [joined_on, left_on): a late joiner is counted from the join, a leaver until
the day they left. A held session with no mark for the member counts as missed.

Marks. present counts as attended; late too, unless CompletionRule.count_late_as_present is off. absent is
missed. excused counts as missed by default (excused_counts_as_missed=True): the rule measures the dose
a member received, and a member excused from 9 of 12 sessions did not receive it. A programme that
prefers otherwise turns the setting off (COMPLETION_EXCUSED_COUNTS_AS_MISSED=0), and excused sessions then
leave that member's denominator, on the sheet and in the programme report alike.

Completion (the default rule): attended at least 75% of the group sessions held during the member's
enrolment, including at least one in the termination phase. The termination condition is waived only
when the group has no termination session left that is not cancelled. The statuses:
- while sessions remain for the member (scheduled, in their enrolment):
  `not_started`  no session held yet, and the rule can still be met;
  `on_track`     the rule can be met even if the member misses one more session;
  `at_risk`      the rule can be met only by attending every remaining session;
  `cannot_complete`  even attending every remaining session would not meet it;
- when none remain: `completed` or `not_completed` (final).

Absence runs. consecutive_absences counts the trailing run of `absent` marks over held sessions in date
order. Cancelled sessions are skipped, and so are held sessions with no mark (a gap in the record is not
evidence either way). present, late and excused end the run: an excused member has been in touch, which
is what outreach is for. Two absences in a row are the outreach signal (DOMAIN.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from math import ceil

from ipt_groups.cycles.templates import PHASE_NAMES

SESSION_STATUSES = ("scheduled", "held", "cancelled")
MARK_STATUSES = ("present", "late", "absent", "excused")
COMPLETION_STATUSES = ("not_started", "on_track", "at_risk", "cannot_complete", "completed", "not_completed")
# What a sheet cell shows besides a mark: the session was cancelled, lies outside the member's enrolment,
# was held with no mark recorded, or is still to come.
CELL_STATUSES = (*MARK_STATUSES, "cancelled", "not_enrolled", "unrecorded", "upcoming")
OUTREACH_AFTER = 2

_ATTENDED, _MISSED, _EXCLUDED = "attended", "missed", "excluded"


# --- plain inputs ----------------------------------------------------------------------------------


def require_aware(value: datetime, name: str) -> None:
    """Refuse a naive datetime, naming the argument."""
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware, got a naive datetime")


def require_one_of(value: str, allowed: tuple[str, ...], name: str) -> None:
    """Refuse a value outside its vocabulary, naming the argument."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")


@dataclass(frozen=True)
class SessionInfo:
    """A group session: `local_date` is its date in the group's timezone (UTC date when not given)."""

    id: int
    number: int
    phase: str
    starts_at: datetime
    status: str = "scheduled"
    ends_at: datetime | None = None
    local_date: date | None = None

    def __post_init__(self):
        require_aware(self.starts_at, "starts_at")
        require_one_of(self.status, SESSION_STATUSES, "status")
        require_one_of(self.phase, PHASE_NAMES, "phase")

    @property
    def day(self) -> date:
        """The date that decides whether a member was enrolled at this session."""
        return self.local_date or self.starts_at.date()


@dataclass(frozen=True)
class Mark:
    """A member's attendance at one session."""

    session_id: int
    member_id: int
    status: str

    def __post_init__(self):
        require_one_of(self.status, MARK_STATUSES, "status")


@dataclass(frozen=True)
class MemberInfo:
    """A member's enrolment in the group: expected from joined_on up to the day before left_on."""

    id: int
    name: str
    joined_on: date
    left_on: date | None = None

    def expected_at(self, session: SessionInfo) -> bool:
        """Whether the session falls within this member's enrolment."""
        return self.joined_on <= session.day and (self.left_on is None or session.day < self.left_on)


@dataclass(frozen=True)
class CompletionRule:
    """A programme's completion threshold; see the module docstring for what each setting means."""

    min_rate: float = 0.75
    require_termination: bool = True
    count_late_as_present: bool = True
    excused_counts_as_missed: bool = True

    def __post_init__(self):
        if not 0 < self.min_rate <= 1:
            raise ValueError(f"min_rate must be in (0, 1], got {self.min_rate!r}")

    def needed(self, held: int) -> int:
        """Sessions a member must attend out of `held` to reach min_rate."""
        # round first: 0.56 * 25 is 14.000000000000002 in floating point, and 14 of 25 is 56%
        return ceil(round(self.min_rate * held, 9))


DEFAULT_RULE = CompletionRule()


@dataclass(frozen=True)
class PhaseTally:
    """Sessions attended out of those counted (`held`); rate is None when nothing was held."""

    attended: int
    held: int
    rate: float | None

    @classmethod
    def of(cls, attended: int, held: int) -> PhaseTally:
        """A tally with its rate worked out."""
        return cls(attended, held, attended / held if held else None)


# --- tallies and completion ------------------------------------------------------------------------


def member_statuses(marks: Iterable[Mark], member_id: int) -> dict[int, str]:
    """One member's mark per session id."""
    return {m.session_id: m.status for m in marks if m.member_id == member_id}


def _chronological(sessions: Iterable[SessionInfo]) -> list[SessionInfo]:
    return sorted(sessions, key=lambda s: (s.starts_at, s.number))


def _outcome(status: str | None, rule: CompletionRule) -> str:
    if status == "present" or (status == "late" and rule.count_late_as_present):
        return _ATTENDED
    if status == "excused" and not rule.excused_counts_as_missed:
        return _EXCLUDED
    return _MISSED


def phase_summary(
    sessions: Iterable[SessionInfo],
    marks: Iterable[Mark],
    member: MemberInfo,
    rule: CompletionRule = DEFAULT_RULE,
) -> dict[str, PhaseTally]:
    """Attended and held sessions per phase, within the member's enrolment, for every phase."""
    statuses = member_statuses(marks, member.id)
    counts = {phase: [0, 0] for phase in PHASE_NAMES}
    for s in (s for s in sessions if s.status == "held" and member.expected_at(s)):
        outcome = _outcome(statuses.get(s.id), rule)
        if outcome != _EXCLUDED:
            counts[s.phase][0] += outcome == _ATTENDED
            counts[s.phase][1] += 1
    return {phase: PhaseTally.of(attended, held) for phase, (attended, held) in counts.items()}


def cycle_tally(tallies: Iterable[PhaseTally]) -> PhaseTally:
    """The cycle so far: the phase tallies added up."""
    tallies = list(tallies)
    return PhaseTally.of(sum(t.attended for t in tallies), sum(t.held for t in tallies))


def completion_status(
    sessions: Iterable[SessionInfo],
    marks: Iterable[Mark],
    member: MemberInfo,
    rule: CompletionRule = DEFAULT_RULE,
) -> str:
    """One of COMPLETION_STATUSES for this member under `rule` (see the module docstring)."""
    sessions = list(sessions)
    tallies = phase_summary(sessions, marks, member, rule)
    so_far = cycle_tally(tallies.values())
    remaining = [s for s in sessions if s.status == "scheduled" and member.expected_at(s)]
    ended_ok = tallies["termination"].attended > 0 or not _termination_required(sessions, rule)
    if not remaining:
        return "completed" if _meets(so_far.attended, so_far.held, ended_ok, rule) else "not_completed"
    left_term = sum(s.phase == "termination" for s in remaining)
    attended, held = so_far.attended + len(remaining), so_far.held + len(remaining)
    if not _meets(attended, held, ended_ok or left_term > 0, rule):
        return "cannot_complete"
    if so_far.held == 0:
        return "not_started"
    # one more miss is best spent outside the termination phase, if a session there remains
    can_spare_one = left_term < len(remaining) or ended_ok or left_term > 1
    return "on_track" if can_spare_one and _meets(attended - 1, held, True, rule) else "at_risk"


def _termination_required(sessions: list[SessionInfo], rule: CompletionRule) -> bool:
    # waived only when the group's whole termination phase was cancelled: nobody could attend it
    return rule.require_termination and any(
        s.phase == "termination" and s.status != "cancelled" for s in sessions
    )


def _meets(attended: int, held: int, ended_ok: bool, rule: CompletionRule) -> bool:
    return held > 0 and ended_ok and attended >= rule.needed(held)


# --- absence runs and outreach ---------------------------------------------------------------------


def absence_run(sessions: Iterable[SessionInfo], marks: Iterable[Mark], member_id: int) -> tuple[int, ...]:
    """Ids of the trailing run of absent marks over held sessions, oldest first."""
    statuses = member_statuses(marks, member_id)
    run: list[int] = []
    for s in reversed(_chronological(s for s in sessions if s.status == "held")):
        status = statuses.get(s.id)
        if status is None:
            continue  # no record: neither ends the run nor extends it
        if status != "absent":
            break
        run.append(s.id)
    return tuple(reversed(run))


def consecutive_absences(sessions: Iterable[SessionInfo], marks: Iterable[Mark], member_id: int) -> int:
    """How many held sessions in a row, up to the latest, the member was marked absent from."""
    return len(absence_run(sessions, marks, member_id))


def outreach_needed(
    sessions: Iterable[SessionInfo], marks: Iterable[Mark], member_id: int, after: int = OUTREACH_AFTER
) -> tuple[int, ...]:
    """The session ids of a run of `after` or more absences in a row, or () when none is due.

    The first id names the run, for an alert key raised once per run (`outreach:<member>:<first id>`);
    keying on every id raises it again at each further absence.
    """
    run = absence_run(sessions, marks, member_id)
    return run if len(run) >= after else ()
