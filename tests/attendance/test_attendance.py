"""Attendance rules: phase tallies, completion, absence runs, outreach, the sheet and the programme report.

Cycles here follow the 12-week template: initial 1-4, middle 5-9, termination 10-12. Session ids are
100 + number, so a test that mixes ids and numbers up fails. Attendance is written as one letter per
session, in number order: P present, L late, A absent, E excused, "." no mark.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from ipt_groups.attendance.reports import GroupInfo, ReportRow, next_session, programme_report, sheet
from ipt_groups.attendance.rules import (
    COMPLETION_STATUSES,
    DEFAULT_RULE,
    CompletionRule,
    Mark,
    MemberInfo,
    PhaseTally,
    SessionInfo,
    absence_run,
    completion_status,
    consecutive_absences,
    cycle_tally,
    outreach_needed,
    phase_summary,
)
from ipt_groups.cycles.templates import TEMPLATES, phase_of

TEMPLATE = TEMPLATES["ipt-g-12"]
START = datetime(2026, 9, 1, 15, 0, tzinfo=UTC)  # a Tuesday; session n is n - 1 weeks later
LETTERS = {"P": "present", "L": "late", "A": "absent", "E": "excused"}
ANN = MemberInfo(1, "Ann", date(2026, 8, 25))


def when(number: int) -> datetime:
    return START + timedelta(weeks=number - 1)


def cycle(held: int = 12, cancelled: tuple[int, ...] = (), moved: dict[int, datetime] | None = None):
    """Sessions 1..held held, the rest scheduled; `moved` gives new starts by number."""
    moved = moved or {}
    sessions = []
    for n in range(1, TEMPLATE.sessions + 1):
        status = "cancelled" if n in cancelled else "held" if n <= held else "scheduled"
        starts_at = moved.get(n, when(n))
        ends_at = starts_at + timedelta(minutes=90)
        sessions.append(
            SessionInfo(100 + n, n, phase_of(TEMPLATE, n), starts_at, status, ends_at, starts_at.date())
        )
    return sessions


def marks(pattern: str, member_id: int = ANN.id) -> list[Mark]:
    return [Mark(100 + n, member_id, LETTERS[c]) for n, c in enumerate(pattern, 1) if c != "."]


def tallies(sessions, pattern, member=ANN, rule=DEFAULT_RULE) -> dict[str, tuple[int, int]]:
    summary = phase_summary(sessions, marks(pattern, member.id), member, rule)
    return {phase: (t.attended, t.held) for phase, t in summary.items()}


# --- phase tallies ---------------------------------------------------------------------------------


def test_full_cycle_with_a_moved_and_a_cancelled_session():
    # session 6 cancelled (its mark, recorded by mistake, is ignored); session 8 moved two days later
    sessions = cycle(cancelled=(6,), moved={8: when(8) + timedelta(days=2)})
    pattern = "PPLA" + "PAPP." + "APP"  # session 9 held without a mark: missed
    assert tallies(sessions, pattern) == {"initial": (3, 4), "middle": (3, 4), "termination": (2, 3)}
    summary = phase_summary(sessions, marks(pattern), ANN)
    assert summary["initial"].rate == 0.75 and summary["termination"].rate == pytest.approx(2 / 3)
    assert cycle_tally(summary.values()) == PhaseTally(8, 11, 8 / 11)
    assert completion_status(sessions, marks(pattern), ANN) == "not_completed"  # 8 of 11 < 75%


def test_a_full_cycle_meeting_the_rule_is_completed():
    sessions = cycle(cancelled=(6,), moved={8: when(8) + timedelta(days=2)})
    pattern = "PPLP" + "P.PPA" + "APP"  # 9 of 11
    assert completion_status(sessions, marks(pattern), ANN) == "completed"


def test_phases_nobody_has_held_yet_have_no_rate():
    summary = phase_summary(cycle(held=3), marks("PPP"), ANN)
    assert summary["initial"] == PhaseTally(3, 3, 1.0)
    assert summary["middle"] == PhaseTally(0, 0, None) and summary["termination"].rate is None


def test_late_counts_as_present_unless_the_rule_says_otherwise():
    strict = CompletionRule(count_late_as_present=False)
    assert tallies(cycle(held=4), "LLPA")["initial"] == (3, 4)
    assert tallies(cycle(held=4), "LLPA", rule=strict)["initial"] == (1, 4)


def test_excused_counts_as_missed_by_default_and_can_leave_the_denominator():
    lenient = CompletionRule(excused_counts_as_missed=False)
    assert tallies(cycle(held=4), "PEEA")["initial"] == (1, 4)
    assert tallies(cycle(held=4), "PEEA", rule=lenient)["initial"] == (1, 2)


def test_a_late_joiner_is_counted_from_the_join_only():
    late = MemberInfo(2, "Lee", joined_on=when(2).date() + timedelta(days=1))  # after session 2
    pattern = "AA" + "PP" + "PPPPP" + "PPP"  # the two early absences predate the enrolment
    assert tallies(cycle(), pattern, late)["initial"] == (2, 2)
    assert completion_status(cycle(), marks(pattern, late.id), late) == "completed"


def test_a_moved_session_counts_by_its_new_date():
    joiner = MemberInfo(2, "Lee", joined_on=when(2).date() + timedelta(days=1))
    moved = cycle(held=4, moved={2: when(2) + timedelta(days=3)})  # now after the join
    assert tallies(cycle(held=4), "PPPP", joiner)["initial"] == (2, 2)
    assert tallies(moved, "PPPP", joiner)["initial"] == (3, 3)


def test_a_leaver_is_counted_until_the_day_before_leaving():
    leaver = MemberInfo(3, "Kim", date(2026, 8, 25), left_on=when(5).date())
    assert tallies(cycle(), "PPPPAAAAAAAA", leaver) == {
        "initial": (4, 4),
        "middle": (0, 0),
        "termination": (0, 0),
    }
    # gone before the termination phase: the rule can no longer be met
    assert completion_status(cycle(), marks("PPPP", leaver.id), leaver) == "not_completed"


# --- completion ------------------------------------------------------------------------------------

# (sessions held, cancelled, attendance, expected status); 12 sessions, 75% and one termination session
COMPLETION_CASES = [
    (0, (), "", "not_started"),
    (0, tuple(range(1, 13)), "", "not_completed"),  # every session cancelled: nothing held, nothing left
    (4, (), "PPPP", "on_track"),
    (4, (), "PPPA", "on_track"),  # 11 of 12 at best, 10 after one more miss
    (4, (), "PAAA", "at_risk"),  # 9 of 12 only if every remaining session is attended
    (4, (), "AAAA", "cannot_complete"),  # 8 of 12 at best
    (8, (), "PPPPPPAA", "on_track"),  # 4 left: 10/12 at best, 9/12 after a miss
    (8, (9, 10), "PPPPPPAA", "at_risk"),  # 2 cancelled: 8/10 at best, 7/10 after a miss
    (8, (9, 10), "PPPPPAAA", "cannot_complete"),  # 7/10 at best
    (9, (11, 12), "PPPPPPPPP", "at_risk"),  # all present, but session 10 is the only termination left
    (12, (), "PPPPPPPPPAAP", "completed"),
    (12, (), "PPPPPPPPPPPA", "completed"),
    (12, (), "PPPPPPPPPAAA", "not_completed"),  # 9 of 12, but no termination session attended
    (12, (), "PPPPPPPAAAAP", "not_completed"),  # a termination session attended, but 8 of 12
    (12, (10, 11, 12), "PPPPPPPPA", "completed"),  # termination all cancelled: waived; 8 of 9
    (8, (10, 11, 12), "PPPPPPPP", "on_track"),
]


@pytest.mark.parametrize(("held", "cancelled", "pattern", "expected"), COMPLETION_CASES)
def test_completion_status(held, cancelled, pattern, expected):
    assert completion_status(cycle(held, cancelled), marks(pattern), ANN) == expected


def test_every_completion_status_is_exercised():
    assert {case[-1] for case in COMPLETION_CASES} == set(COMPLETION_STATUSES)


def test_moved_session_still_scheduled_counts_as_remaining():
    # session 12 moved a fortnight later and not yet held: the member can still get there
    sessions = cycle(held=11, moved={12: when(12) + timedelta(weeks=2)})
    assert completion_status(sessions, marks("PPPPPPPPAAA"), ANN) == "at_risk"
    assert completion_status(cycle(held=11, cancelled=(12,)), marks("PPPPPPPPAAA"), ANN) == "not_completed"


@pytest.mark.parametrize(
    ("min_rate", "held", "needed"),
    [
        (0.75, 12, 9),
        (0.75, 11, 9),
        (0.7, 10, 7),
        (1.0, 12, 12),
        (0.56, 25, 14),
    ],  # 0.56 * 25 = 14.000000000000002
)
def test_sessions_needed_is_exact_despite_floating_point(min_rate, held, needed):
    assert CompletionRule(min_rate=min_rate).needed(held) == needed


def test_excused_setting_changes_completion():
    pattern = "PPEEPPPPPPPP"
    assert completion_status(cycle(), marks(pattern), ANN) == "completed"  # 10 of 12
    assert completion_status(cycle(), marks("PEEEEPPPPPPP"), ANN) == "not_completed"  # 8 of 12
    lenient = CompletionRule(excused_counts_as_missed=False)
    assert completion_status(cycle(), marks("PEEEEPPPPPPP"), ANN, lenient) == "completed"  # 8 of 8


def test_completion_rule_checks_its_threshold():
    with pytest.raises(ValueError):
        CompletionRule(min_rate=1.5)
    with pytest.raises(ValueError):
        CompletionRule(min_rate=0)


# --- absence runs and outreach ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("held", "cancelled", "pattern", "expected"),
    [
        (4, (), "PPAA", 2),
        (4, (), "PAAP", 0),  # came back: no trailing run
        (5, (4,), "PPA.A", 2),  # a cancelled session between two absences does not break the run
        (5, (), "PPA.A", 2),  # a held session with no mark neither breaks nor extends it
        (5, (), "PAAEA", 1),  # excused breaks the run: the member was in touch
        (5, (), "PAALA", 1),  # late breaks it: the member came
        (4, (), "AAAA", 4),
        (2, (), "AA" + "AA", 2),  # marks on scheduled (future) sessions are not absences yet
        (0, (), "", 0),
    ],
)
def test_consecutive_absences(held, cancelled, pattern, expected):
    assert consecutive_absences(cycle(held, cancelled), marks(pattern), ANN.id) == expected


def test_runs_follow_dates_not_numbers():
    # session 3 moved after session 4 (an extreme move): the run is read in the order sessions happened
    sessions = cycle(held=4, moved={3: when(4) + timedelta(days=1)})
    assert consecutive_absences(sessions, marks("PPPA"), ANN.id) == 0
    assert absence_run(sessions, marks("PPAP"), ANN.id) == (103,)


def test_other_members_marks_do_not_count():
    both = marks("PPAA") + marks("PPPP", member_id=2)
    assert consecutive_absences(cycle(held=4), both, ANN.id) == 2
    assert consecutive_absences(cycle(held=4), both, 2) == 0


def test_outreach_after_two_absences_in_a_row_with_the_run_ids():
    sessions = cycle(held=6, cancelled=(5,))
    assert outreach_needed(sessions, marks("PPPA"), ANN.id) == ()
    assert outreach_needed(sessions, marks("PPPA.A"), ANN.id) == (104, 106)
    # a third absence keeps the run's first id, so a key on it raises the alert once
    assert outreach_needed(cycle(held=7, cancelled=(5,)), marks("PPPA.AA"), ANN.id)[0] == 104
    assert outreach_needed(sessions, marks("PPPE.A"), ANN.id) == ()


def test_outreach_threshold_is_a_parameter():
    assert outreach_needed(cycle(held=4), marks("PPPA"), ANN.id, after=1) == (104,)
    assert outreach_needed(cycle(held=4), marks("PPAA"), ANN.id, after=3) == ()


# --- plain inputs are checked ----------------------------------------------------------------------


def test_inputs_refuse_naive_times_and_unknown_statuses():
    with pytest.raises(ValueError, match="timezone-aware"):
        SessionInfo(1, 1, "initial", datetime(2026, 9, 1, 15))  # noqa: DTZ001 - the naive time is the point
    with pytest.raises(ValueError, match="status"):
        SessionInfo(1, 1, "initial", START, "postponed")
    with pytest.raises(ValueError, match="phase"):
        SessionInfo(1, 1, "closing", START)
    with pytest.raises(ValueError, match="status"):
        Mark(1, 1, "no_show")


# --- the sheet -------------------------------------------------------------------------------------

GROUP = GroupInfo(7, "Tuesday evening", "Africa/Kampala", "Grace")
NOW = when(4) + timedelta(days=1)  # sessions 1-4 held


def make_sheet(**changes):
    members = [
        ANN,
        MemberInfo(2, "Bea", date(2026, 8, 25), left_on=when(3).date()),
        MemberInfo(3, "Cy", when(2).date() + timedelta(days=1)),
    ]
    args = {
        "group": GROUP,
        "sessions": cycle(held=4, cancelled=(6,)),
        "members": members,
        "marks": marks("PAAA") + marks("PP", 2) + marks("..PL", 3),
        "checkin_scores": [
            (1, START - timedelta(days=7), "phq2", 4),
            (1, START - timedelta(days=6), "phq9", 16),
            (1, when(4), "phq9", 11),
            (1, when(4) + timedelta(hours=2), "phq2", 2),
            (1, NOW + timedelta(days=1), "phq9", 3),  # after `now`: not on this sheet
            (3, when(3), "phq9", 12),
        ],
        "open_alerts": {3: 2},
        "rule": DEFAULT_RULE,
        "now": NOW,
    }
    return sheet(**(args | changes))


def test_sheet_rows_cells_and_tallies():
    s = make_sheet()
    assert [r.member.name for r in s.rows] == ["Ann", "Bea", "Cy"]
    ann, bea, cy = s.rows
    assert [s.sessions[i].number for i in range(6)] == [1, 2, 3, 4, 5, 6]
    assert ann.cells[:6] == ("present", "absent", "absent", "absent", "upcoming", "cancelled")
    assert bea.cells[:4] == ("present", "present", "not_enrolled", "not_enrolled")
    assert cy.cells[:4] == ("not_enrolled", "not_enrolled", "present", "late")
    assert ann.phases["initial"] == PhaseTally(1, 4, 0.25) and cy.cycle == PhaseTally(2, 2, 1.0)
    assert (ann.completion, bea.completion, cy.completion) == ("cannot_complete", "not_completed", "on_track")
    assert s.session_attended[:4] == (2, 1, 1, 1)
    assert s.phase_totals["initial"] == PhaseTally(5, 8, 5 / 8)


def test_sheet_absences_outreach_and_alerts():
    ann, bea, cy = make_sheet().rows
    assert ann.consecutive_absences == 3 and ann.outreach == (102, 103, 104)
    assert (cy.open_alerts, ann.open_alerts) == (2, 0)
    left = make_sheet(marks=marks("PAAA", 2))  # Bea left after session 2: marks after that don't count
    assert left.rows[1].consecutive_absences == 3 and left.rows[1].outreach == ()


def test_sheet_scores_latest_and_change_since_the_first_phq9():
    ann, bea, cy = make_sheet().rows
    assert (ann.latest_score.instrument, ann.latest_score.score) == ("phq2", 2)
    assert ann.phq9_change == 11 - 16  # baseline is the earliest PHQ-9, not the earlier PHQ-2
    assert [p.score for p in ann.phq9] == [16, 11]
    assert cy.latest_score.score == 12 and cy.phq9_change is None  # one PHQ-9: no change yet
    assert bea.latest_score is None and bea.phq9 == ()


def test_sheet_next_session_and_roster():
    s = make_sheet()
    assert s.next_session.number == 5
    assert [m.name for m in s.roster] == ["Ann", "Cy"]  # Bea has left
    # session 5 cancelled: the next one is 7, as 6 is cancelled too
    assert make_sheet(sessions=cycle(held=4, cancelled=(5, 6))).next_session.number == 7
    assert make_sheet(now=when(13)).next_session is None and make_sheet(now=when(13)).roster == ()


def test_next_session_is_the_one_under_way():
    sessions = cycle(held=4)
    assert next_session(sessions, when(5) + timedelta(minutes=30)).number == 5
    assert next_session(sessions, when(5) + timedelta(minutes=90)).number == 6
    with pytest.raises(ValueError):
        next_session(sessions, datetime(2026, 1, 1))  # noqa: DTZ001 - the naive time is the point


# --- programme report ------------------------------------------------------------------------------


def test_programme_report_rates_per_group_and_phase():
    rows = [
        ReportRow(1, "Tue", "middle", 5, 30, 8),
        ReportRow(1, "Tue", "initial", 4, 28, 8),
        (2, "Thu", "initial", 0, 0, 6),
        ReportRow(1, "Tue", "termination", 3, 18, 9),
    ]
    report = programme_report(rows)
    assert [(r["group_id"], r["phase"]) for r in report] == [
        (1, "initial"),
        (1, "middle"),
        (1, "termination"),
        (1, "all"),
        (2, "initial"),
        (2, "all"),
    ]
    tue = {r["phase"]: r for r in report if r["group_id"] == 1}
    assert tue["initial"]["rate"] == 28 / 32 and tue["middle"]["rate"] == 30 / 40
    assert tue["all"]["expected"] == 32 + 40 + 27 and tue["all"]["rate"] == 76 / 99
    assert tue["all"]["enrolled_members"] == 9 and tue["all"]["mean_attended"] == 76 / 9
    assert report[4]["rate"] is None and report[4]["mean_attended"] == 0


def test_programme_report_refuses_duplicate_or_unknown_phases():
    with pytest.raises(ValueError, match="two initial"):
        programme_report([(1, "Tue", "initial", 4, 28, 8), (1, "Tue", "initial", 4, 28, 8)])
    with pytest.raises(ValueError, match="phase"):
        programme_report([(1, "Tue", "closing", 4, 28, 8)])
