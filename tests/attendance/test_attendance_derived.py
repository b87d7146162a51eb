"""Issue 13's attendance problems: one outreach task per run of absences (merged when a correction
extends it), "not marked" its own prompt and never outreach, the programme report's denominator per
member's own enrolment (as the sheet), and the same member twice in one PUT refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ipt_groups.groups.operations import enrol_member
from ipt_groups.models import Alert, AttendanceRecord, GroupSession
from tests.conftest import NOW


@pytest.fixture
def cohort(started_group, make_member):
    members = [make_member(i) for i in range(3)]
    return started_group(members), members


def _session(n):
    return GroupSession.query.filter_by(number=n).one()


def _at(app, monkeypatch, n):
    monkeypatch.setitem(app.config, "FIXED_NOW", _session(n).starts_at + timedelta(minutes=5))


def _put(client, auth, n, marks):
    records = [{"member_id": m.id, "status": status} for m, status in marks]
    return client.put(
        f"/api/v1/sessions/{_session(n).id}/attendance", json={"records": records}, headers=auth
    )


def test_a_correction_that_extends_a_run_of_absences_keeps_one_outreach_task(
    client, auth, app, monkeypatch, cohort
):
    _group, (ana, bo, cy) = cohort
    for n, ana_status in ((1, "present"), (2, "present"), (3, "absent"), (4, "absent")):
        _at(app, monkeypatch, n)
        assert _put(client, auth, n, [(ana, ana_status), (bo, "present"), (cy, "present")]).status_code == 200
    assert Alert.query.filter_by(kind="outreach").count() == 1
    # session 2 corrected to absent: the same run, now three long
    assert _put(client, auth, 2, [(ana, "absent")]).status_code == 200
    tasks = Alert.query.filter_by(kind="outreach").all()
    assert len(tasks) == 1 and tasks[0].detail["absences_in_a_row"] == 3
    assert set(tasks[0].detail["session_ids"]) == {_session(n).id for n in (2, 3, 4)}


def test_not_marked_at_a_held_session_is_its_own_prompt_and_no_outreach(
    client, auth, app, monkeypatch, cohort
):
    _group, (ana, bo, cy) = cohort
    for n in (1, 2):
        _at(app, monkeypatch, n)
        assert _put(client, auth, n, [(ana, "present"), (bo, "present")]).status_code == 200
    prompts = Alert.query.filter_by(kind="unmarked").order_by(Alert.id).all()
    assert [p.detail["member_ids"] for p in prompts] == [[cy.id], [cy.id]]
    assert all(p.acknowledged_at is None for p in prompts)
    assert Alert.query.filter_by(kind="outreach").count() == 0
    assert _put(client, auth, 1, [(cy, "excused")]).status_code == 200
    first = Alert.query.filter_by(kind="unmarked", session_id=_session(1).id).one()
    assert first.detail["member_ids"] == [] and first.acknowledged_at is not None
    page = client.get("/api/v1/alerts?kind=unmarked", headers=auth)
    assert page.status_code == 200 and [a["session_id"] for a in page.json] == [_session(2).id]


def test_the_same_member_twice_in_one_put_is_a_422_naming_the_field(client, auth, app, monkeypatch, cohort):
    _group, (ana, bo, _cy) = cohort
    _at(app, monkeypatch, 1)
    r = _put(client, auth, 1, [(ana, "present"), (bo, "present"), (ana, "absent")])
    assert r.status_code == 422
    assert r.json["errors"]["json"]["records"] == {
        "2": {"member_id": [f"member {ana.id} is already in records[0]"]}
    }
    assert AttendanceRecord.query.count() == 0 and _session(1).status == "scheduled"


def test_a_late_joiner_who_came_every_week_leaves_the_report_at_the_sheets_100(
    client, auth, app, monkeypatch, cohort, make_member, db
):
    group, members = cohort
    for n in (1, 2):
        _at(app, monkeypatch, n)
        _put(client, auth, n, [(m, "present") for m in members])
    late = make_member(9)
    enrol_member(group, late, {"joined_on": _session(3).local_date}, "test", NOW)
    db.session.commit()
    for n in (3, 4):
        _at(app, monkeypatch, n)
        _put(client, auth, n, [(m, "present") for m in [*members, late]])
    rows = client.get("/api/v1/reports/attendance", headers=auth).json["rows"]
    initial = next(r for r in rows if r["phase"] == "initial")
    assert (initial["held_sessions"], initial["enrolled_members"]) == (4, 4)
    assert (initial["attended"], initial["expected"], initial["rate"]) == (14, 14, 1.0)
    sheet = client.get(f"/api/v1/groups/{group.id}/attendance-sheet", headers=auth).json
    joiner = next(m for m in sheet["members"] if m["member"]["id"] == late.id)
    assert (joiner["cycle"]["held"], joiner["cycle"]["attended"]) == (2, 2)  # the sheet: 100% too


@pytest.mark.parametrize("excused_missed", [True, False])
@pytest.mark.parametrize("late_counts", [True, False])
def test_the_report_and_the_sheet_apply_the_same_completion_rule(
    client, auth, app, monkeypatch, cohort, excused_missed, late_counts
):
    """Excused and late counted as the programme says, by the sheet and the report alike."""
    monkeypatch.setitem(app.config, "COMPLETION_EXCUSED_COUNTS_AS_MISSED", excused_missed)
    monkeypatch.setitem(app.config, "COMPLETION_LATE_COUNTS", late_counts)
    group, (ana, bo, cy) = cohort
    for n, marks in ((1, ("present", "excused", "late")), (2, ("present", "present", "absent"))):
        _at(app, monkeypatch, n)
        assert _put(client, auth, n, list(zip((ana, bo, cy), marks, strict=True))).status_code == 200
    rows = client.get("/api/v1/reports/attendance", headers=auth).json["rows"]
    initial = next(r for r in rows if r["phase"] == "initial")
    sheet = client.get(f"/api/v1/groups/{group.id}/attendance-sheet", headers=auth).json
    held = sum(m["cycle"]["held"] for m in sheet["members"])
    attended = sum(m["cycle"]["attended"] for m in sheet["members"])
    assert (initial["expected"], initial["attended"]) == (held, attended)
    assert (held, attended) == (6 if excused_missed else 5, 4 if late_counts else 3)
