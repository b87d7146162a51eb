"""Cycle arithmetic: templates, DST, planning, changes, reminders and quiet hours. No clock, no sleeps."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from ipt_groups.cycles.calendar import (
    DEFAULT_REMINDERS,
    cancel_session,
    local_to_utc,
    move_session,
    plan_cycle,
    plan_reminder,
    rules_for,
    validate_first_date,
)
from ipt_groups.cycles.templates import (
    DEFAULT_TEMPLATE,
    TEMPLATES,
    CycleError,
    phase_of,
    template_from_dict,
    template_to_dict,
)
from ipt_groups.messaging.timing import QuietHours, defer_out_of_quiet, in_quiet_hours

NY, LONDON, SYDNEY = "America/New_York", "Europe/London", "Australia/Sydney"
QUIET = QuietHours()  # 21:00-08:00
SWAPPED = ("middle", "initial", "termination")
AFTER = "meetings[0].after_session"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(instant: datetime, tz: str) -> datetime:
    return instant.astimezone(ZoneInfo(tz))


def wall(instant: datetime, tz: str) -> tuple[date, time]:
    """The local (date, time) of an instant, for comparing with a table."""
    here = local(instant, tz)
    return here.date(), here.time()


# --- daylight saving ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "first", "expected"),
    [
        # US clocks go forward on 2027-03-14: EST (UTC-5) -> EDT (UTC-4)
        (NY, date(2027, 3, 2), [utc(2027, 3, 2, 23), utc(2027, 3, 9, 23), utc(2027, 3, 16, 22)]),
        # UK clocks go forward on 2027-03-28: GMT -> BST (UTC+1)
        (LONDON, date(2027, 3, 16), [utc(2027, 3, 16, 18), utc(2027, 3, 23, 18), utc(2027, 3, 30, 17)]),
        # Sydney clocks go back on 2027-04-04: AEDT (UTC+11) -> AEST (UTC+10)
        (SYDNEY, date(2027, 3, 23), [utc(2027, 3, 23, 7), utc(2027, 3, 30, 7), utc(2027, 4, 6, 8)]),
    ],
)
def test_sessions_keep_local_time_across_dst(tz, first, expected):
    plan = plan_cycle(TEMPLATES["who-8"], first, time(18, 0), tz)
    assert [s.starts_at for s in plan.sessions[:3]] == expected
    assert {local(s.starts_at, tz).time() for s in plan.sessions} == {time(18, 0)}
    assert all(s.ends_at - s.starts_at == timedelta(minutes=90) for s in plan.sessions)


@pytest.mark.parametrize(
    ("d", "t", "expected_utc", "expected_local"),
    [
        (date(2027, 3, 14), time(2, 30), utc(2027, 3, 14, 7, 30), time(3, 30)),  # gap: forward an hour
        (date(2027, 3, 14), time(1, 59), utc(2027, 3, 14, 6, 59), time(1, 59)),  # just before the gap
        (date(2027, 3, 14), time(3, 0), utc(2027, 3, 14, 7, 0), time(3, 0)),  # just after the gap
        (date(2027, 11, 7), time(1, 30), utc(2027, 11, 7, 5, 30), time(1, 30)),  # fold: first (EDT)
        (date(2027, 11, 7), time(2, 0), utc(2027, 11, 7, 7, 0), time(2, 0)),  # after the fold (EST)
    ],
)
def test_gap_and_fold_rule(d, t, expected_utc, expected_local):
    instant = local_to_utc(d, t, NY)
    assert instant == expected_utc
    assert instant.tzinfo is UTC
    assert local(instant, NY).time() == expected_local


def test_fold_ignores_callers_fold_flag():
    assert local_to_utc(date(2027, 11, 7), time(1, 30, fold=1), NY) == utc(2027, 11, 7, 5, 30)


@pytest.mark.parametrize("tz", ["Mars/Olympus_Mons", "", "../etc/passwd"])
def test_unknown_timezone(tz):
    with pytest.raises(CycleError) as err:
        local_to_utc(date(2027, 1, 1), time(9), tz)
    assert "tz" in err.value.errors


# --- templates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "n", "phases", "meetings"),
    [
        ("who-8", 8, [(1, 1), (2, 7), (8, 8)], ["pre_group"]),
        ("ipt-g-12", 12, [(1, 4), (5, 9), (10, 12)], ["pre_group"]),
        ("ipt-g-16", 16, [(1, 4), (5, 12), (13, 16)], ["pre_group"]),
        ("wilfley-20", 20, [(1, 5), (6, 15), (16, 20)], ["pre_group", "mid_group", "post_group"]),
    ],
)
def test_builtin_templates(key, n, phases, meetings):
    template = TEMPLATES[key]
    assert template.sessions == n
    assert [(p.name, p.first, p.last) for p in template.phases] == [
        (name, *bounds) for name, bounds in zip(("initial", "middle", "termination"), phases, strict=True)
    ]
    assert [m.kind for m in template.meetings] == meetings
    assert template_from_dict(template_to_dict(template)) == template
    for name, (first, last) in zip(("initial", "middle", "termination"), phases, strict=True):
        assert {phase_of(template, k) for k in range(first, last + 1)} == {name}


def test_default_template_and_wilfley_mid_group():
    assert DEFAULT_TEMPLATE.key == "ipt-g-12"
    assert TEMPLATES["wilfley-20"].meeting("mid_group").after_session == 10


@pytest.mark.parametrize(
    ("key", "points"),
    [
        ("who-8", [("pre_group", None), ("mid_cycle", 4), ("end", 8)]),
        ("ipt-g-12", [("pre_group", None), ("mid_cycle", 6), ("end", 12)]),
        ("wilfley-20", [("pre_group", None), ("mid_cycle", 10), ("end", 20)]),
    ],
)
def test_phq9_points(key, points):
    assert [(p.occasion, p.session) for p in TEMPLATES[key].phq9_points()] == points


def test_phq9_baseline_at_session_one_without_pre_group_meeting():
    doc = custom(meetings=[])
    assert template_from_dict(doc).phq9_points()[0].session == 1


@pytest.mark.parametrize("n", [0, -1, 9])
def test_phase_of_rejects_numbers_outside_the_cycle(n):
    with pytest.raises(CycleError):
        phase_of(TEMPLATES["who-8"], n)


def custom(**changes) -> dict:
    doc = {
        "key": "custom-10",
        "name": "Ten weeks",
        "sessions": 10,
        "phases": [
            {"name": "initial", "first": 1, "last": 3},
            {"name": "middle", "first": 4, "last": 8},
            {"name": "termination", "first": 9, "last": 10},
        ],
        "meetings": [{"kind": "pre_group"}, {"kind": "mid_group", "after_session": 5}],
        "late_join_until_session": 3,
        "weekly_checkin": "mood",
    }
    return doc | changes


def phases(*bounds, names=("initial", "middle", "termination")) -> list[dict]:
    return [{"name": n, "first": f, "last": last} for n, (f, last) in zip(names, bounds, strict=True)]


def test_custom_template_is_built():
    template = template_from_dict(custom())
    assert (template.sessions, template.late_join_until_session, template.weekly_checkin) == (10, 3, "mood")
    assert template.meeting("mid_group").after_session == 5
    assert phase_of(template, 4) == "middle"
    assert template_from_dict(template_to_dict(template)) == template


@pytest.mark.parametrize(
    ("changes", "path", "words"),
    [
        ({"sessions": 0}, "sessions", "1-52"),
        ({"sessions": 53}, "sessions", "1-52"),
        ({"sessions": "10"}, "sessions", "whole number"),
        ({"phases": phases((1, 3), (5, 8), (9, 10))}, "phases[1].first", "gap"),
        ({"phases": phases((2, 3), (4, 8), (9, 10))}, "phases[0].first", "gap"),
        ({"phases": phases((1, 4), (4, 8), (9, 10))}, "phases[1].first", "overlaps"),
        ({"phases": phases((1, 3), (4, 8), (9, 9))}, "phases[2].last", "cover 1-10"),
        ({"phases": phases((1, 3), (4, 8), (9, 12))}, "phases[2].last", "cover 1-10"),
        ({"phases": phases((1, 3), (4, 2), (3, 10))}, "phases[1].last", "ends before"),
        ({"phases": phases((1, 3), (4, 8), (9, 10), names=SWAPPED)}, "phases", "order"),
        ({"phases": phases((1, 5), (6, 10), names=("initial", "termination"))}, "phases", "exactly"),
        ({"phases": phases((1, 3), (4, "x"), (9, 10))}, "phases[1].last", "whole number"),
        ({"meetings": [{"kind": "coffee"}]}, "meetings[0].kind", "pre_group"),
        ({"meetings": [{"kind": "pre_group"}, {"kind": "pre_group"}]}, "meetings[1].kind", "at most one"),
        ({"meetings": [{"kind": "mid_group", "after_session": 10}]}, AFTER, "1-9"),
        ({"meetings": [{"kind": "mid_group", "after_session": 0}]}, AFTER, "1-9"),
        ({"meetings": [{"kind": "mid_group"}]}, AFTER, "whole number"),
        ({"meetings": [{"kind": "post_group", "after_session": 3}]}, AFTER, "mid_group"),
        ({"late_join_until_session": 11}, "late_join_until_session", "1-10"),
        ({"late_join_until_session": 0}, "late_join_until_session", "1-10"),
        ({"session_minutes": 5}, "session_minutes", "30-240"),
        ({"weekly_checkin": "emoji"}, "weekly_checkin", "phq2"),
        ({"key": ""}, "key", "required"),
        ({"colour": "blue"}, "colour", "not a template field"),
    ],
)
def test_custom_template_errors_name_the_field(changes, path, words):
    with pytest.raises(CycleError) as err:
        template_from_dict(custom(**changes))
    assert path in err.value.errors, err.value.errors
    assert any(words in message for message in err.value.errors[path])


def test_custom_template_reports_every_problem_at_once():
    doc = custom(sessions=99, weekly_checkin="x", meetings=[{"kind": "x"}])
    with pytest.raises(CycleError) as err:
        template_from_dict(doc)
    assert {"sessions", "weekly_checkin", "meetings[0].kind"} <= set(err.value.errors)


# --- planning ----------------------------------------------------------------------------------------


def test_plan_numbers_phases_and_weekday():
    plan = plan_cycle(DEFAULT_TEMPLATE, date(2027, 1, 5), time(17, 30), NY)
    assert [s.number for s in plan.sessions] == list(range(1, 13))
    assert [s.phase for s in plan.sessions] == ["initial"] * 4 + ["middle"] * 5 + ["termination"] * 3
    assert {s.local_date.weekday() for s in plan.sessions} == {date(2027, 1, 5).weekday()}
    assert plan.sessions[-1].local_date == date(2027, 3, 23)


@pytest.mark.parametrize(
    ("skips", "expected_dates"),
    [
        (set(), [date(2027, 1, 5), date(2027, 1, 12), date(2027, 1, 19), date(2027, 1, 26)]),
        ({date(2027, 1, 12)}, [date(2027, 1, 5), date(2027, 1, 19), date(2027, 1, 26), date(2027, 2, 2)]),
        ({date(2027, 1, 5)}, [date(2027, 1, 12), date(2027, 1, 19), date(2027, 1, 26), date(2027, 2, 2)]),
        ({date(2027, 1, 12), date(2027, 1, 19)}, [date(2027, 1, 5), date(2027, 1, 26), date(2027, 2, 2)]),
        ({date(2027, 1, 13)}, [date(2027, 1, 5), date(2027, 1, 12), date(2027, 1, 19)]),  # off-cadence
    ],
)
def test_skip_dates_push_later_sessions(skips, expected_dates):
    plan = plan_cycle(TEMPLATES["who-8"], date(2027, 1, 5), time(18), NY, skip_dates=skips)
    assert len(plan.sessions) == 8
    assert [s.local_date for s in plan.sessions[: len(expected_dates)]] == expected_dates
    assert not {s.local_date for s in plan.sessions} & skips


@pytest.mark.parametrize("minutes", [-30, 0])
def test_session_length_must_be_positive(minutes):
    with pytest.raises(CycleError) as err:
        plan_cycle(TEMPLATES["who-8"], date(2027, 1, 5), time(18), NY, session_minutes=minutes)
    assert "session_minutes" in err.value.errors


def test_default_meeting_dates():
    plan = plan_cycle(TEMPLATES["wilfley-20"], date(2027, 1, 5), time(18), LONDON, session_minutes=120)
    meetings = {m.kind: m for m in plan.meetings}
    assert meetings["pre_group"].local_date == date(2026, 12, 29)
    assert meetings["mid_group"].local_date == plan.sessions[9].local_date + timedelta(days=3)
    assert meetings["post_group"].local_date == plan.sessions[19].local_date + timedelta(days=6)
    assert meetings["pre_group"].starts_at == utc(2026, 12, 29, 18)
    assert meetings["pre_group"].ends_at - meetings["pre_group"].starts_at == timedelta(minutes=60)
    assert plan.sessions[0].ends_at - plan.sessions[0].starts_at == timedelta(minutes=120)


@pytest.mark.parametrize(
    ("first", "now", "tz", "ok"),
    [
        (date(2027, 3, 1), utc(2027, 3, 2, 3), NY, True),  # still 1 March in New York
        (date(2027, 3, 1), utc(2027, 3, 2, 3), LONDON, False),  # already 2 March in London
        (date(2027, 3, 2), utc(2027, 3, 2, 3), LONDON, True),  # today is allowed
        (date(2027, 3, 2), utc(2027, 3, 1, 14), SYDNEY, True),  # 2 March 01:00 in Sydney
    ],
)
def test_validate_first_date(first, now, tz, ok):
    if ok:
        validate_first_date(first, now, tz)
    else:
        with pytest.raises(CycleError) as err:
            validate_first_date(first, now, tz)
        assert "first_date" in err.value.errors


# --- changes -----------------------------------------------------------------------------------------


@pytest.fixture
def sessions():
    return plan_cycle(TEMPLATES["who-8"], date(2027, 3, 2), time(18), NY).sessions


def test_cancel_with_shift_keeps_n_sessions_and_phases(sessions):
    result = cancel_session(sessions, 3, shift=True, tz=NY)
    assert [s.number for s in result.sessions] == list(range(1, 9))
    assert [s.phase for s in result.sessions] == [s.phase for s in sessions]
    assert result.cancelled == sessions[2]
    assert result.sessions[:2] == sessions[:2]
    assert [s.local_date - o.local_date for s, o in zip(result.sessions[2:], sessions[2:], strict=True)] == [
        timedelta(days=7)
    ] * 6
    # session 3 moved from before the US change (23:00 UTC) to after it (22:00 UTC), still 18:00 local
    assert result.moves[0].number == 3
    assert (result.moves[0].old_starts_at, result.moves[0].new_starts_at) == (
        utc(2027, 3, 16, 22),
        utc(2027, 3, 23, 22),
    )
    assert [m.number for m in result.moves] == list(range(3, 9))
    assert {local(s.starts_at, NY).time() for s in result.sessions} == {time(18)}


def test_cancel_across_dst_keeps_local_time(sessions):
    result = cancel_session(sessions, 2, shift=True, tz=NY)
    assert result.moves[0].old_starts_at == utc(2027, 3, 9, 23)
    assert result.moves[0].new_starts_at == utc(2027, 3, 16, 22)


def test_cancel_without_shift_only_drops_that_session(sessions):
    result = cancel_session(sessions, 5, shift=False, tz=NY)
    assert [s.number for s in result.sessions] == [1, 2, 3, 4, 6, 7, 8]
    assert result.cancelled.number == 5
    assert result.moves == []
    assert result.sessions[4] == sessions[5]


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"held_numbers": {2}}, "number"),
        ({"now": utc(2027, 3, 9, 23, 30)}, "number"),  # session 2 has started
    ],
)
def test_cannot_cancel_held_or_past(sessions, kwargs, path):
    with pytest.raises(CycleError) as err:
        cancel_session(sessions, 2, shift=True, tz=NY, **kwargs)
    assert path in err.value.errors


def test_move_session_to_new_slot(sessions):
    moved = move_session(sessions, 4, date(2027, 3, 25), time(10), NY, 90)
    assert moved[3].starts_at == utc(2027, 3, 25, 14)
    assert (moved[3].number, moved[3].phase) == (4, "middle")
    assert moved[:3] + moved[4:] == sessions[:3] + sessions[4:]
    assert sessions[3].local_date == date(2027, 3, 23)  # the input list is not changed


@pytest.mark.parametrize(
    ("number", "new_date", "new_start", "kwargs", "path"),
    [
        (4, date(2027, 3, 30), time(18), {}, "local_start"),  # exactly onto session 5
        (4, date(2027, 3, 30), time(19), {}, "local_start"),  # within 90 minutes of session 5
        (4, date(2027, 3, 30), time(16, 31), {}, "local_start"),  # ends inside session 5
        (4, date(2027, 4, 1), time(18), {}, "local_date"),  # after session 5
        (4, date(2027, 3, 15), time(18), {}, "local_date"),  # before session 3
        (2, date(2027, 3, 10), time(18), {"held_numbers": {2}}, "number"),  # held
        (2, date(2027, 3, 10), time(18), {"now": utc(2027, 3, 10)}, "number"),  # in the past
        (4, date(2027, 3, 3), time(18), {"now": utc(2027, 3, 5)}, "local_date"),  # new slot past
        (9, date(2027, 5, 1), time(18), {}, "number"),  # no such session
    ],
)
def test_move_errors(sessions, number, new_date, new_start, kwargs, path):
    with pytest.raises(CycleError) as err:
        move_session(sessions, number, new_date, new_start, NY, 90, **kwargs)
    assert path in err.value.errors, err.value.errors


def test_move_just_clear_of_next_session_is_allowed(sessions):
    moved = move_session(sessions, 4, date(2027, 3, 30), time(16, 30), NY, 90)
    assert moved[3].ends_at == sessions[4].starts_at


# --- reminders and quiet hours -----------------------------------------------------------------------


def test_default_reminders():
    assert [(r.kind, r.offset) for r in rules_for("member", "session")] == [
        ("reminder_24h", timedelta(hours=24)),
        ("reminder_2h", timedelta(hours=2)),
    ]
    assert [r.kind for r in rules_for("member", "meeting")] == ["reminder_24h", "reminder_2h"]
    assert [r.kind for r in rules_for("facilitator", "session")] == ["facilitator_24h"]
    assert rules_for("facilitator", "meeting") == ()
    assert len(DEFAULT_REMINDERS) == 3


@pytest.mark.parametrize(
    ("local_time", "quiet", "expected"),
    [
        (time(20, 59), QUIET, False),
        (time(21, 0), QUIET, True),
        (time(23, 59), QUIET, True),
        (time(0, 0), QUIET, True),
        (time(7, 59), QUIET, True),
        (time(8, 0), QUIET, False),
        (time(13, 0), QuietHours(time(13), time(15)), True),
        (time(15, 0), QuietHours(time(13), time(15)), False),
        (time(12, 59), QuietHours(time(13), time(15)), False),
        (time(3, 0), QuietHours(time(8), time(8)), False),  # start == end: no quiet hours
    ],
)
def test_in_quiet_hours(local_time, quiet, expected):
    instant = local_to_utc(date(2027, 6, 15), local_time, LONDON)
    assert in_quiet_hours(instant, LONDON, quiet) is expected


def test_member_in_other_timezone_gets_reminder_before_their_quiet_hours():
    # group at 18:00 New York = 23:00 London; the 24h reminder would be 23:00 London, 18:00 New York
    start = local_to_utc(date(2027, 6, 15), time(18), NY)
    naive_send = start - timedelta(hours=24)
    assert not in_quiet_hours(naive_send, NY, QUIET)
    assert in_quiet_hours(naive_send, LONDON, QUIET)
    send = plan_reminder(start, timedelta(hours=24), LONDON, QUIET)
    assert wall(send, LONDON) == (date(2027, 6, 14), time(20, 59))
    assert plan_reminder(start, timedelta(hours=24), NY, QUIET) == naive_send


@pytest.mark.parametrize(
    ("session_at", "tz", "offset", "quiet", "expected"),
    [
        # crossing midnight, due after midnight: the evening before
        ((date(2027, 6, 15), time(9)), LONDON, timedelta(hours=2), QUIET, (date(2027, 6, 14), time(20, 59))),
        # crossing midnight, due before midnight: the same evening
        ((date(2027, 6, 15), time(23, 30)), LONDON, timedelta(hours=2), QUIET,
         (date(2027, 6, 15), time(20, 59))),
        # not crossing midnight: just before it starts, the same day
        ((date(2027, 6, 15), time(16)), SYDNEY, timedelta(hours=2), QuietHours(time(13), time(15)),
         (date(2027, 6, 15), time(12, 59))),
        # an allowed time is kept
        ((date(2027, 6, 15), time(18)), SYDNEY, timedelta(hours=24), QUIET, (date(2027, 6, 14), time(18))),
        # start == end: no quiet hours at all
        ((date(2027, 6, 15), time(5)), SYDNEY, timedelta(hours=2), QuietHours(time(0), time(0)),
         (date(2027, 6, 15), time(3))),
        # US spring-forward night: 05:30 EDT - 2 h = 03:30 EDT, quiet since 21:00 EST the evening before
        ((date(2027, 3, 14), time(5, 30)), NY, timedelta(hours=2), QUIET, (date(2027, 3, 13), time(20, 59))),
    ],
)  # fmt: skip
def test_reminder_moves_earlier_out_of_quiet_hours(session_at, tz, offset, quiet, expected):
    start = local_to_utc(*session_at, tz)
    send = plan_reminder(start, offset, tz, quiet)
    assert wall(send, tz) == expected
    assert send < start


@pytest.mark.parametrize("tz", [NY, LONDON, SYDNEY, "Asia/Kathmandu"])
@pytest.mark.parametrize("quiet", [QUIET, QuietHours(time(22), time(6, 30)), QuietHours(time(12), time(14))])
@pytest.mark.parametrize("offset", [timedelta(hours=24), timedelta(hours=2), timedelta(minutes=30)])
def test_reminder_never_dropped_late_or_quiet(tz, quiet, offset):
    # every quarter hour over two days that include the US and Australian clock changes
    for base in (utc(2027, 3, 13), utc(2027, 4, 3), utc(2027, 11, 6)):
        for step in range(0, 48 * 4):
            start = base + timedelta(minutes=15 * step)
            send = plan_reminder(start, offset, tz, quiet)
            assert send is not None
            assert send <= start - offset
            assert not in_quiet_hours(send, tz, quiet), (start, send)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (utc(2027, 6, 15, 6), utc(2027, 6, 15, 7)),  # 07:00 London, quiet: at 08:00 London
        (utc(2027, 6, 15, 7, 10), utc(2027, 6, 15, 7, 10)),  # 08:10 London, allowed: now
        (utc(2027, 6, 15, 7, 50), None),  # too late: the session started
    ],
)
def test_reminder_whose_time_has_passed(now, expected):
    start = utc(2027, 6, 15, 7, 30)  # 08:30 London
    assert plan_reminder(start, timedelta(hours=2), LONDON, QUIET, now=now) == expected


def test_reminder_dropped_only_when_no_allowed_time_remains():
    start = utc(2027, 6, 15, 6, 30)  # 07:30 London, inside quiet hours
    now = utc(2027, 6, 14, 21)  # 22:00 London: quiet until after the session
    assert plan_reminder(start, timedelta(hours=2), LONDON, QUIET, now=now) is None
    assert plan_reminder(start, timedelta(hours=24), LONDON, QUIET, now=utc(2027, 6, 14, 19)) == utc(
        2027, 6, 14, 19
    )


@pytest.mark.parametrize("offset", [timedelta(0), timedelta(hours=-1)])
def test_reminder_offset_must_be_positive(offset):
    with pytest.raises(CycleError):
        plan_reminder(utc(2027, 6, 15, 12), offset, LONDON, QUIET)


@pytest.mark.parametrize(
    ("instant", "tz", "quiet", "expected"),
    [
        (utc(2027, 6, 15, 22, 30), LONDON, QUIET, utc(2027, 6, 16, 7)),  # 23:30 -> 08:00 tomorrow
        (utc(2027, 6, 15, 2), LONDON, QUIET, utc(2027, 6, 15, 7)),  # 03:00 -> 08:00 today
        (utc(2027, 6, 15, 11), LONDON, QUIET, utc(2027, 6, 15, 11)),  # 12:00: not quiet
        (utc(2027, 6, 15, 3), SYDNEY, QuietHours(time(12), time(14)), utc(2027, 6, 15, 4)),  # 13:00 -> 14:00
        (utc(2027, 3, 14, 3), NY, QUIET, utc(2027, 3, 14, 12)),  # 22:00 EST -> 08:00 EDT
    ],
)
def test_defer_out_of_quiet(instant, tz, quiet, expected):
    deferred = defer_out_of_quiet(instant, tz, quiet)
    assert deferred == expected
    assert not in_quiet_hours(deferred, tz, quiet)
