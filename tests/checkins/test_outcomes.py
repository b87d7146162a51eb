"""Programme outcomes: the arithmetic (a table of cases at each threshold), the summaries, the dose
bands, and GET /api/v1/reports/outcomes (JSON, CSV, filters, coordinators only)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ipt_groups.checkins.outcomes import Course, dose_band, member_outcome, outcome_report, summarise
from ipt_groups.cycles.operations import start_cycle
from ipt_groups.groups.operations import enrol_member
from ipt_groups.models import AttendanceRecord, Checkin, GroupSession
from tests.conftest import NOW


@pytest.mark.parametrize(
    ("baseline", "end", "response", "remission", "reliable", "recovery"),
    [
        (20, 10, True, False, True, False),  # exactly half: response; 10 is not below 10
        (20, 11, False, False, True, False),
        (20, 9, True, False, True, True),
        (10, 9, False, False, False, True),  # recovery needs only crossing 10
        (9, 2, True, True, True, None),  # started below 10: recovery does not apply
        (12, 6, True, False, True, True),  # a drop of exactly 6
        (12, 7, False, False, False, True),
        (6, 4, False, True, False, None),  # remission is an end below 5
        (5, 5, False, False, False, None),
        (0, 0, False, True, False, None),  # no 50% drop from 0
        (8, 14, False, False, False, None),  # worse
        (27, 0, True, True, True, True),
    ],
)
def test_member_outcomes_at_each_threshold(baseline, end, response, remission, reliable, recovery):
    outcome = member_outcome(baseline, end)
    assert outcome["change"] == end - baseline
    assert (outcome["response"], outcome["remission"]) == (response, remission)
    assert (outcome["reliable_improvement"], outcome["recovery"]) == (reliable, recovery)


def test_a_summary_counts_among_members_with_both_scores():
    courses = [
        Course(1, 1, 20, 8, 9, 10),
        Course(2, 1, 12, 10, 4, 10),
        Course(3, 1, 4, 2, 10, 10),
        Course(4, 1, 15, None, 1, 10),  # a baseline, no later score
        Course(5, 1, None, None, 0, 10),
    ]
    s = summarise(courses)
    assert (s["members"], s["with_baseline"], s["with_both"]) == (5, 4, 3)
    assert (s["mean_baseline"], s["mean_end"], s["mean_change"]) == (12.0, 6.67, -5.33)
    assert s["response"] == {"n": 2, "of": 3, "rate": 0.667}
    assert s["remission"] == {"n": 1, "of": 3, "rate": 0.333}
    assert s["reliable_improvement"] == {"n": 1, "of": 3, "rate": 0.333}
    assert s["recovery"] == {"n": 1, "of": 2, "rate": 0.5}  # members 1 and 2 started at 10 or above


def test_an_empty_summary_has_no_rates():
    s = summarise([])
    assert s["mean_change"] is None and s["response"] == {"n": 0, "of": 0, "rate": None}


@pytest.mark.parametrize(
    ("attended", "held", "band"),
    [
        (0, 0, None),
        (0, 8, "under 25%"),
        (2, 8, "25-49%"),
        (4, 8, "50-74%"),
        (5, 8, "50-74%"),
        (6, 8, "75% or more"),
    ],
)
def test_dose_bands(attended, held, band):
    assert dose_band(attended, held) == band


def test_the_report_has_the_programme_each_group_and_each_dose():
    courses = [Course(1, 1, 20, 8, 8, 8), Course(2, 2, 14, 13, 1, 8)]
    groups = [{"group_id": 1, "name": "A"}, {"group_id": 2, "name": "B"}]
    report = outcome_report(courses, groups)
    assert report["programme"]["with_both"] == 2
    assert [g["response"]["n"] for g in report["groups"]] == [1, 0]
    assert {d["dose"]: d["with_both"] for d in report["by_dose"]} == {
        "under 25%": 1,
        "25-49%": 0,
        "50-74%": 0,
        "75% or more": 1,
    }


def _phq9(member, group, score: int, when) -> Checkin:
    return Checkin(
        member_id=member.id,
        group_id=group.id,
        occasion="phq9",
        instrument="phq9",
        answers=[],
        status="complete",
        started_at=when,
        expires_at=when + timedelta(hours=48),
        completed_at=when,
        score=score,
        complete=True,
    )


@pytest.fixture
def scored(db, make_facilitator, make_member, make_group):
    """A group of two whose first two sessions were held: Ana came twice (PHQ-9 18 then 8), Bea once
    (16 then 15); another facilitator's group with one member scored 12 then 4."""
    started = NOW - timedelta(days=14)
    group = make_group(make_facilitator(0).id, name="Scored group")
    other = make_group(make_facilitator(1).id, name="Other group")
    ana, bea, cy = make_member(0, name="Ana"), make_member(1, name="Bea"), make_member(2, name="Cy")
    for member, into in ((ana, group), (bea, group), (cy, other)):
        enrol_member(into, member, {}, "test", started)
    for into in (group, other):
        start_cycle(into, {"first_date": date(2026, 11, 17)}, "test", started)
    held = db.session.query(GroupSession).filter(GroupSession.group_id == group.id, GroupSession.number <= 2)
    for session in held:
        session.status = "held"
        db.session.add(
            AttendanceRecord(session_id=session.id, member_id=ana.id, status="present", recorded_by="t")
        )
        if session.number == 1:
            db.session.add(
                AttendanceRecord(session_id=session.id, member_id=bea.id, status="late", recorded_by="t")
            )
    for member, into, first, last in ((ana, group, 18, 8), (bea, group, 16, 15), (cy, other, 12, 4)):
        db.session.add_all([_phq9(member, into, first, started), _phq9(member, into, last, NOW)])
    db.session.commit()
    return {"group": group, "other": other}


def test_the_api_reports_outcomes(client, auth, scored):
    r = client.get("/api/v1/reports/outcomes", headers=auth)
    assert r.status_code == 200
    programme = r.json["programme"]
    assert (programme["members"], programme["with_both"], programme["mean_baseline"]) == (3, 3, 15.33)
    assert programme["response"] == {"n": 2, "of": 3, "rate": 0.667}
    first = r.json["groups"][0]
    assert first["name"] == "Scored group" and first["first_date"] == "2026-11-17"
    assert first["recovery"] == {"n": 1, "of": 2, "rate": 0.5}
    doses = {d["dose"]: d["with_both"] for d in r.json["by_dose"]}
    assert doses == {"under 25%": 0, "25-49%": 0, "50-74%": 1, "75% or more": 1}  # the other group held none


def test_the_api_filters_by_group_facilitator_and_dates(client, auth, scored):
    by_group = client.get(f"/api/v1/reports/outcomes?group_id={scored['other'].id}", headers=auth).json
    assert [g["name"] for g in by_group["groups"]] == ["Other group"] and by_group["programme"][
        "members"
    ] == 1
    by_lead = client.get(
        f"/api/v1/reports/outcomes?facilitator_id={scored['group'].facilitator_id}", headers=auth
    )
    assert [g["name"] for g in by_lead.json["groups"]] == ["Scored group"]
    late = client.get("/api/v1/reports/outcomes?from_date=2026-12-01", headers=auth).json
    assert late["groups"] == [] and late["programme"]["members"] == 0
    wrong = client.get("/api/v1/reports/outcomes?from_date=2026-12-01&to_date=2026-11-01", headers=auth)
    assert wrong.status_code == 422 and "from_date" in str(wrong.json["errors"])


def test_the_api_gives_csv(client, auth, scored):
    r = client.get("/api/v1/reports/outcomes?format=csv", headers=auth)
    lines = r.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert r.mimetype == "text/csv" and lines[0].startswith("scope,group_id,group,facilitator,dose,members")
    assert lines[1].startswith("programme,") and lines[2].startswith("group,") and "Scored group" in lines[2]
    assert len(lines) == 1 + 1 + 2 + 4
    by_accept = client.get("/api/v1/reports/outcomes", headers={**auth, "Accept": "text/csv"})
    assert by_accept.mimetype == "text/csv"


def test_facilitators_may_not_read_programme_outcomes(client, facilitator_auth, scored):
    r = client.get("/api/v1/reports/outcomes", headers=facilitator_auth(scored["group"].facilitator_id))
    assert r.status_code == 403
