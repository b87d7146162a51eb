"""Attendance rules: per-phase tallies, completion, absence runs, outreach and the attendance sheet.

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
prefers otherwise turns the setting off, and excused sessions then leave that member's denominator.

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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from math import ceil
from typing import NamedTuple
from zoneinfo import ZoneInfo

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


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware, got a naive datetime")


def _require_one_of(value: str, allowed: tuple[str, ...], name: str) -> None:
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
        _require_aware(self.starts_at, "starts_at")
        _require_one_of(self.status, SESSION_STATUSES, "status")
        _require_one_of(self.phase, PHASE_NAMES, "phase")

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
        _require_one_of(self.status, MARK_STATUSES, "status")


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


class CheckinScore(NamedTuple):
    """One scored check-in: a complete total of `instrument` ("phq9", "phq2" or "mood")."""

    member_id: int
    taken_at: datetime
    instrument: str
    score: int


# --- tallies and completion ------------------------------------------------------------------------


def _statuses(marks: Iterable[Mark], member_id: int) -> dict[int, str]:
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
    statuses = _statuses(marks, member.id)
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
    statuses = _statuses(marks, member_id)
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


# --- the attendance sheet --------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupInfo:
    """What a sheet shows of a group: deliberately no problem area, since sheets get printed."""

    id: int
    name: str
    timezone: str
    facilitator: str = ""


@dataclass(frozen=True)
class MemberRow:
    """One member's line of the sheet; `cells` line up with Sheet.sessions."""

    member: MemberInfo
    cells: tuple[str, ...]
    phases: dict[str, PhaseTally]
    cycle: PhaseTally
    completion: str
    consecutive_absences: int
    outreach: tuple[int, ...]
    latest_score: CheckinScore | None
    phq9_change: int | None  # latest PHQ-9 minus the earliest (the baseline); negative is better
    phq9: tuple[CheckinScore, ...]
    open_alerts: int


@dataclass(frozen=True)
class Sheet:
    """A group's attendance sheet as plain data, for the JSON, CSV and PDF renderers."""

    group: GroupInfo
    generated_at: datetime
    rule: CompletionRule
    sessions: tuple[SessionInfo, ...]  # by phase, then number
    rows: tuple[MemberRow, ...]
    phase_totals: dict[str, PhaseTally]
    session_attended: tuple[int, ...]  # members attending each session, lined up with `sessions`
    next_session: SessionInfo | None
    roster: tuple[MemberInfo, ...] = ()  # members expected at next_session

    def phase_sessions(self, phase: str) -> tuple[SessionInfo, ...]:
        """The sheet's sessions in one phase."""
        return tuple(s for s in self.sessions if s.phase == phase)


def next_session(sessions: Iterable[SessionInfo], now: datetime) -> SessionInfo | None:
    """The first scheduled session not yet over at `now`: one under way is still the one to sign in."""
    _require_aware(now, "now")
    upcoming = [s for s in sessions if s.status == "scheduled" and (s.ends_at or s.starts_at) > now]
    return min(upcoming, key=lambda s: (s.starts_at, s.number), default=None)


def _cell(session: SessionInfo, status: str | None, member: MemberInfo) -> str:
    if session.status == "cancelled":
        return "cancelled"
    if not member.expected_at(session):
        return "not_enrolled"
    return status or ("unrecorded" if session.status == "held" else "upcoming")


def _scores(scores: list[CheckinScore]) -> tuple[CheckinScore | None, int | None, tuple[CheckinScore, ...]]:
    ordered = sorted(scores, key=lambda s: s.taken_at)
    phq9 = tuple(s for s in ordered if s.instrument == "phq9")
    change = phq9[-1].score - phq9[0].score if len(phq9) > 1 else None
    return (ordered[-1] if ordered else None), change, phq9


def _member_row(
    member: MemberInfo,
    sessions: tuple[SessionInfo, ...],
    marks: list[Mark],
    rule: CompletionRule,
    today: date,
    scores: list[CheckinScore],
    alerts: int,
) -> MemberRow:
    statuses = _statuses(marks, member.id)
    tallies = phase_summary(sessions, marks, member, rule)
    run = absence_run(sessions, marks, member.id)
    left = member.left_on is not None and member.left_on <= today
    latest, change, phq9 = _scores(scores)
    return MemberRow(
        member=member,
        cells=tuple(_cell(s, statuses.get(s.id), member) for s in sessions),
        phases=tallies,
        cycle=cycle_tally(tallies.values()),
        completion=completion_status(sessions, marks, member, rule),
        consecutive_absences=len(run),
        outreach=() if left or len(run) < OUTREACH_AFTER else run,  # nobody chases a member who left
        latest_score=latest,
        phq9_change=change,
        phq9=phq9,
        open_alerts=alerts,
    )


def sheet(
    group: GroupInfo,
    sessions: Iterable[SessionInfo],
    members: Iterable[MemberInfo],
    marks: Iterable[Mark],
    checkin_scores: Iterable[CheckinScore | tuple],
    open_alerts: Mapping[int, int],
    rule: CompletionRule,
    now: datetime,
) -> Sheet:
    """The whole attendance sheet at `now`; open_alerts maps member id to open safety alerts."""
    ordered = tuple(sorted(sessions, key=lambda s: (PHASE_NAMES.index(s.phase), s.number)))
    by_member = _by_member(marks)  # each member's rules then read only their own marks
    scores = _by_member(CheckinScore(*s) for s in checkin_scores if s[1] <= now)  # as of now, like the rest
    today = now.astimezone(ZoneInfo(group.timezone)).date()
    rows = tuple(
        _member_row(
            m, ordered, by_member.get(m.id, []), rule, today, scores.get(m.id, []), open_alerts.get(m.id, 0)
        )
        for m in sorted(members, key=lambda m: (m.name.casefold(), m.id))
    )
    upcoming = next_session(ordered, now)
    return Sheet(
        group=group,
        generated_at=now,
        rule=rule,
        sessions=ordered,
        rows=rows,
        phase_totals=_phase_totals(rows),
        session_attended=_session_attended(rows, rule),
        next_session=upcoming,
        roster=tuple(r.member for r in rows if upcoming and r.member.expected_at(upcoming)),
    )


def _by_member(items: Iterable[Mark | CheckinScore]) -> dict[int, list]:
    grouped: dict[int, list] = {}
    for item in items:
        grouped.setdefault(item.member_id, []).append(item)
    return grouped


def _phase_totals(rows: tuple[MemberRow, ...]) -> dict[str, PhaseTally]:
    return {p: cycle_tally(r.phases[p] for r in rows) for p in PHASE_NAMES}


def _session_attended(rows: tuple[MemberRow, ...], rule: CompletionRule) -> tuple[int, ...]:
    came = {"present", "late"} if rule.count_late_as_present else {"present"}
    columns = zip(*(r.cells for r in rows), strict=True) if rows else ()
    return tuple(sum(cell in came for cell in column) for column in columns)


# --- programme report ------------------------------------------------------------------------------


class ReportRow(NamedTuple):
    """Pre-aggregated counts for one group and phase, as a GROUP BY query returns them."""

    group_id: int
    group_name: str
    phase: str
    held_sessions: int
    attended_marks: int
    enrolled_members: int


def programme_report(rows: Iterable[ReportRow | tuple]) -> list[dict]:
    """Rates per group and phase, plus an `all` line per group, in one pass over the rows.

    rate = attended marks / (held sessions x enrolled members); mean_attended is the dose per member.
    The `all` line takes the largest phase enrolment as the group's, since late joiners add members.
    """
    groups: dict[int, dict[str, ReportRow]] = {}
    for row in map(_report_row, rows):
        by_phase = groups.setdefault(row.group_id, {})
        if row.phase in by_phase:
            raise ValueError(f"group {row.group_id} has two {row.phase} rows")
        by_phase[row.phase] = row
    out = []
    for by_phase in groups.values():
        lines = [_report_line(by_phase[p]) for p in PHASE_NAMES if p in by_phase]
        out.extend(lines)
        out.append(_report_line(_group_total(list(by_phase.values())), sum(x["expected"] for x in lines)))
    return out


def _report_row(raw: ReportRow | tuple) -> ReportRow:
    row = ReportRow(*raw)
    _require_one_of(row.phase, PHASE_NAMES, "phase")
    return row


def _group_total(rows: list[ReportRow]) -> ReportRow:
    return ReportRow(
        rows[0].group_id,
        rows[0].group_name,
        "all",
        sum(r.held_sessions for r in rows),
        sum(r.attended_marks for r in rows),
        max(r.enrolled_members for r in rows),
    )


def _report_line(row: ReportRow, expected: int | None = None) -> dict:
    # the `all` line passes the phases' summed expected marks: held x max enrolled would overstate it
    expected = row.held_sessions * row.enrolled_members if expected is None else expected
    return {
        "group_id": row.group_id,
        "group_name": row.group_name,
        "phase": row.phase,
        "held_sessions": row.held_sessions,
        "attended": row.attended_marks,
        "enrolled_members": row.enrolled_members,
        "expected": expected,
        "rate": row.attended_marks / expected if expected else None,
        "mean_attended": row.attended_marks / row.enrolled_members if row.enrolled_members else None,
    }
