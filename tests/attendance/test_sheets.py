"""Sheet renderers read back the way their users' tools read them: csv, pypdf and icalendar."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar
from pypdf import PdfReader

from ipt_groups.attendance.reports import GroupInfo, programme_report, sheet
from ipt_groups.attendance.rules import DEFAULT_RULE, Mark, MemberInfo, SessionInfo
from ipt_groups.attendance.sheets import (
    CalendarEvent,
    calendar_ics,
    find_fonts,
    report_csv,
    session_event,
    session_uid,
    sheet_csv,
    sheet_json,
    sheet_pdf,
)
from ipt_groups.cycles.templates import TEMPLATES, phase_of
from ipt_groups.vocabulary import PROBLEM_AREAS

START = datetime(2026, 9, 1, 15, 0, tzinfo=UTC)  # 18:00 in Kampala
NOW = START + timedelta(weeks=13, days=1)  # 14 of 20 sessions held
NAMES = [
    "Amélie Dubois",
    "Łucja Nowak",  # outside latin-1: needs the TTF font
    'Ann "Annie", Smith',
    '=HYPERLINK("http://x")',
    "+Plus Minus",
    "-Dash",
    "@Handle",
    "Zoë O'Brien",
    "José Álvarez",
    "Chidi Okafor",
]
GROUP = GroupInfo(3, "Tuesday Ñandú", "Africa/Kampala", "Grace Auma")
PATTERN = "PPLAPEPPPPPPAA"  # sessions 1-14, the same for every member; 15-20 still to come


def wilfley_sessions() -> list[SessionInfo]:
    template, out = TEMPLATES["wilfley-20"], []
    for n in range(1, 21):
        starts_at = START + timedelta(weeks=n - 1)
        status = "cancelled" if n == 7 else "held" if n <= 14 else "scheduled"
        out.append(
            SessionInfo(
                n * 10, n, phase_of(template, n), starts_at, status, starts_at + timedelta(minutes=90)
            )
        )
    return out


def members() -> list[MemberInfo]:
    joined = [MemberInfo(i, name, date(2026, 8, 20)) for i, name in enumerate(NAMES, 1)]
    return [*joined, MemberInfo(99, "Left Early", date(2026, 8, 20), left_on=date(2026, 9, 20))]


def build_sheet():
    sessions = wilfley_sessions()
    marks = [
        Mark(s.id, m.id, {"P": "present", "L": "late", "A": "absent", "E": "excused"}[PATTERN[s.number - 1]])
        for s in sessions
        if s.number <= len(PATTERN)
        for m in members()
    ]
    scores = [(1, START - timedelta(days=7), "phq9", 18), (1, START + timedelta(weeks=9), "phq9", 12)]
    return sheet(GROUP, sessions, members(), marks, scores, {2: 1}, DEFAULT_RULE, NOW)


@pytest.fixture(scope="module")
def built():
    return build_sheet()


# --- CSV -------------------------------------------------------------------------------------------


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def test_csv_has_a_bom_and_crlf_line_endings(built):
    text = sheet_csv(built)
    assert text.startswith("\ufeff") and not text.startswith("\ufeff\ufeff")
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbf")
    assert text.count("\r\n") == len(built.rows) + 1 and "\n" not in text.replace("\r\n", "")


def test_csv_names_survive_and_formulas_are_defused(built):
    rows = read_csv(sheet_csv(built))
    names = [r[0] for r in rows[1:]]
    assert {"Amélie Dubois", "Łucja Nowak", 'Ann "Annie", Smith', "Zoë O'Brien", "José Álvarez"} <= set(names)
    for dangerous in ('=HYPERLINK("http://x")', "+Plus Minus", "-Dash", "@Handle"):
        assert "'" + dangerous in names and dangerous not in names


def test_csv_columns_per_member(built):
    header, *rows = read_csv(sheet_csv(built))
    assert header[:4] == ["Member", "Initial attended", "Initial held", "Initial rate %"]
    assert header[10:] == [
        "Cycle rate %",
        "Completion",
        "Consecutive absences",
        "Latest score",
        "Latest check-in",
        "PHQ-9 change since baseline",
        "Open safety alerts",
    ]
    amelie = dict(zip(header, next(r for r in rows if r[0] == "Amélie Dubois"), strict=True))
    # initial 1-5 "PPLAP": 4 of 5; middle 6-15 minus cancelled 7, held to 14 "E.PPPPPAA" -> 5 of 8
    assert (amelie["Initial attended"], amelie["Initial held"], amelie["Initial rate %"]) == ("4", "5", "80")
    assert (amelie["Middle attended"], amelie["Middle held"], amelie["Cycle rate %"]) == ("5", "8", "69")
    assert amelie["Termination rate %"] == "" and amelie["Consecutive absences"] == "2"
    assert amelie["Completion"] == "At risk" and amelie["PHQ-9 change since baseline"] == "-6"  # not "'-6"
    assert amelie["Open safety alerts"] == "0" and amelie["Latest check-in"] == "phq9"


def test_report_csv_uses_the_same_conventions():
    lines = programme_report(
        [(1, "=Evil group", "initial", 4, 27, 9), (2, "Café, Tuesdays", "initial", 0, 0, 6)]
    )
    text = report_csv(lines)
    assert text.startswith("\ufeff") and text.endswith("\r\n")
    header, *rows = read_csv(text)
    assert header[:3] == ["Group id", "Group", "Phase"]
    assert rows[0][1] == "'=Evil group" and rows[0][7] == "75" and rows[0][8] == "3.0"
    assert rows[2][1] == "Café, Tuesdays" and rows[2][7] == ""  # nothing held: no rate


# --- JSON ------------------------------------------------------------------------------------------


def test_json_is_serialisable_with_iso_times(built):
    doc = json.loads(json.dumps(sheet_json(built)))
    assert datetime.fromisoformat(doc["generated_at"]) == NOW
    assert [p["name"] for p in doc["phases"]] == ["initial", "middle", "termination"]
    assert [s["number"] for s in doc["phases"][0]["sessions"]] == [1, 2, 3, 4, 5]
    assert doc["next_session"]["number"] == 15 and len(doc["roster"]) == len(NAMES)
    amelie = next(m for m in doc["members"] if m["member"]["name"] == "Amélie Dubois")
    assert amelie["attendance"]["10"] == "present" and amelie["attendance"]["70"] == "cancelled"
    assert amelie["outreach_session_ids"] == [130, 140] and amelie["phq9_change"] == -6
    assert "problem_area" not in json.dumps(doc)


# --- PDF -------------------------------------------------------------------------------------------


def pdf_pages(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def test_pdf_roster_then_one_grid_page_then_summary(built):
    pages = pdf_pages(sheet_pdf(built))
    assert len(pages) == 3  # 20 sessions x 11 members fit one landscape page
    assert pages[0].startswith("Sign-in sheet") and "Tuesday Ñandú" in pages[0]
    assert "Session 15 - Tuesday 8 December 2026, 18:00 (Africa/Kampala)" in pages[0]
    assert "Left Early" not in pages[0] and "Left Early" in pages[1]
    assert "Facilitator signature" in pages[0]
    assert "Attendance rate by phase" in pages[2] and "PHQ-9 across the cycle" in pages[2]


def test_pdf_roster_lists_every_expected_name(built):
    if find_fonts() is None:
        pytest.skip("DejaVu Sans is not installed: the fallback test covers this machine")
    roster = pdf_pages(sheet_pdf(built))[0]
    for name in NAMES:
        assert name in roster, name


def test_pdf_falls_back_to_a_core_font_without_losing_names(built):
    roster = pdf_pages(sheet_pdf(built, fonts=None))[0]
    assert "Lucja Nowak" in roster  # Ł has no latin-1 form: its base letter stands in
    for name in ("Amélie Dubois", "José Álvarez", "Zoë O'Brien", 'Ann "Annie", Smith'):
        assert name in roster, name


def test_pdf_roster_page_keeps_scores_and_problem_areas_off(built):
    roster = pdf_pages(sheet_pdf(built))[0].lower()
    assert "phq" not in roster and "alert" not in roster
    assert not any(area.replace("_", " ") in roster for area in PROBLEM_AREAS)


def test_pdf_is_the_same_for_the_same_sheet(built):
    assert sheet_pdf(built, fonts=None) == sheet_pdf(built, fonts=None)


def test_pdf_without_a_next_session():
    empty = sheet(GROUP, [], [], [], [], {}, DEFAULT_RULE, NOW)
    pages = pdf_pages(sheet_pdf(empty))
    assert len(pages) == 3 and "No session scheduled" in pages[0] and "No PHQ-9 scores yet" in pages[2]


# --- iCalendar -------------------------------------------------------------------------------------


def feed(sessions, sequences=None) -> Calendar:
    sequences = sequences or {}
    events = [session_event(GROUP.name, s, sequences.get(s.id, 0)) for s in sessions]
    return Calendar.from_ical(calendar_ics("Grace Auma", events, NOW))


def test_ics_events_have_stable_uids_and_utc_times():
    events = feed(wilfley_sessions()).walk("VEVENT")
    assert [str(e["uid"]) for e in events] == [f"session-{n * 10}@ipt-groups" for n in range(1, 21)]
    first = events[0]
    assert first.decoded("dtstart") == START and first.decoded("dtstart").utcoffset() == timedelta(0)
    assert first["dtstart"].to_ical() == b"20260901T150000Z"
    assert first.decoded("dtend") - first.decoded("dtstart") == timedelta(minutes=90)
    assert str(first["summary"]) == "Group Tuesday Ñandú session 1"


def test_ics_moved_session_keeps_its_uid_with_a_higher_sequence():
    sessions = wilfley_sessions()
    moved = [
        SessionInfo(s.id, s.number, s.phase, s.starts_at + timedelta(days=2), s.status) for s in sessions
    ]
    before, after = feed(sessions).walk("VEVENT")[16], feed(moved, {170: 1}).walk("VEVENT")[16]
    assert str(before["uid"]) == str(after["uid"]) == session_uid(170)
    assert (before["sequence"], after["sequence"]) == (0, 1)
    assert after.decoded("dtstart") - before.decoded("dtstart") == timedelta(days=2)
    assert after.decoded("dtend") - after.decoded("dtstart") == timedelta(minutes=90)  # no end given


def test_ics_cancelled_sessions_stay_in_the_feed_as_cancelled():
    events = {str(e["uid"]): e for e in feed(wilfley_sessions()).walk("VEVENT")}
    assert str(events[session_uid(70)]["status"]) == "CANCELLED"
    assert str(events[session_uid(80)]["status"]) == "CONFIRMED"
    assert str(events[session_uid(70)]["transp"]) == "TRANSPARENT"


def test_ics_calendar_headers_and_privacy():
    cal = feed(wilfley_sessions())
    assert str(cal["version"]) == "2.0" and "Grace Auma" in str(cal["x-wr-calname"])
    text = calendar_ics(
        "Grace Auma", [session_event(GROUP.name, s) for s in wilfley_sessions()], NOW
    ).decode()
    assert "\r\n" in text and "DTSTAMP:20261202T150000Z" in text
    for word in ("therapy", "depress", "ipt", "phq", *(a.replace("_", " ") for a in PROBLEM_AREAS)):
        assert word not in text.lower().replace("ipt-groups", "")


def test_ics_refuses_naive_times():
    with pytest.raises(ValueError):
        CalendarEvent("x", "Group", datetime(2026, 1, 1, 9), datetime(2026, 1, 1, 10))  # noqa: DTZ001
    with pytest.raises(ValueError):
        calendar_ics("Grace", [], datetime(2026, 1, 1))  # noqa: DTZ001 - the naive time is the point


def test_pdf_grid_for_a_full_group_of_fifteen_fits_one_page():
    group = [MemberInfo(i, f"Member {i:02d} Ñ", date(2026, 8, 20)) for i in range(15)]
    marks = [Mark(s.id, m.id, "present") for s in wilfley_sessions() if s.status == "held" for m in group]
    scores = [(m.id, START + timedelta(weeks=w), "phq9", 12 - w) for m in group for w in (0, 5, 10)]
    full = sheet(GROUP, wilfley_sessions(), group, marks, scores, {}, DEFAULT_RULE, NOW)
    pages = pdf_pages(sheet_pdf(full))
    assert len(pages) == 3
    assert all(f"Member {i:02d} Ñ" in pages[1] and f"Member {i:02d} Ñ" in pages[2] for i in range(15))
