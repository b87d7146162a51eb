"""The attendance sheet of a group and the programme report, as plain data for the renderers in
sheets/ (pure: no Flask, no database, no clock; callers pass `now`). The rules they apply are in
rules.py."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from ipt_groups.attendance.rules import (
    OUTREACH_AFTER,
    CompletionRule,
    Mark,
    MemberInfo,
    PhaseTally,
    SessionInfo,
    absence_run,
    completion_status,
    cycle_tally,
    member_statuses,
    phase_summary,
    require_aware,
    require_one_of,
)
from ipt_groups.cycles.templates import PHASE_NAMES


class CheckinScore(NamedTuple):
    """One scored check-in: a complete total of `instrument` ("phq9", "phq2" or "mood")."""

    member_id: int
    taken_at: datetime
    instrument: str
    score: int


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
    require_aware(now, "now")
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
    statuses = member_statuses(marks, member.id)
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
    # marks expected: each held session times the members enrolled at it (a late joiner counts only
    # from the week they joined, as on the sheet); None: held sessions x enrolled members
    expected_marks: int | None = None


def programme_report(rows: Iterable[ReportRow | tuple]) -> list[dict]:
    """Rates per group and phase, plus an `all` line per group, in one pass over the rows.

    rate = attended marks / expected marks, each member counted at the held sessions of their own
    enrolment (the sheet's denominator, so a late joiner who came every week leaves the group at 100%);
    mean_attended is the dose per member.
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
    require_one_of(row.phase, PHASE_NAMES, "phase")
    return row


def _group_total(rows: list[ReportRow]) -> ReportRow:
    return ReportRow(
        rows[0].group_id,
        rows[0].group_name,
        "all",
        sum(r.held_sessions for r in rows),
        sum(r.attended_marks for r in rows),
        max(r.enrolled_members for r in rows),
        sum(_expected(r) for r in rows),
    )


def _expected(row: ReportRow) -> int:
    return row.held_sessions * row.enrolled_members if row.expected_marks is None else row.expected_marks


def _report_line(row: ReportRow, expected: int | None = None) -> dict:
    # the `all` line passes the phases' summed expected marks: held x max enrolled would overstate it
    expected = _expected(row) if expected is None else expected
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
