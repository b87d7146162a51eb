"""Attendance through the API: recording rules and permissions, sheets in three formats, the
programme report, outreach after two absences, and the facilitator's calendar feed."""

import csv
import io
from datetime import timedelta

import pytest
from icalendar import Calendar
from pypdf import PdfReader

from ipt_groups.models import Alert, AuditEntry, GroupSession, Message
from tests.conftest import NOW


@pytest.fixture
def cohort(started_group, make_member):
    """A 12-session group from 2026-12-01 (Tuesdays 18:00 Chicago) with three awkwardly named members."""
    names = ["Zoë Müller", "O'Brien, Pat", '=HYPERLINK("x")']
    members = [make_member(i, name=name) for i, name in enumerate(names)]
    return started_group(members), members


def _session(n):
    return GroupSession.query.filter_by(number=n).one()


@pytest.fixture
def later(app, monkeypatch):
    """Move the API's clock to just after session n starts."""

    def at(n):
        monkeypatch.setitem(app.config, "FIXED_NOW", _session(n).starts_at + timedelta(minutes=5))

    return at


def put(client, headers, session, records):
    return client.put(f"/api/v1/sessions/{session.id}/attendance", json={"records": records}, headers=headers)


def test_facilitator_records_and_session_becomes_held(client, cohort, facilitator_auth, later):
    group, members = cohort
    later(1)
    own = facilitator_auth(group.facilitator_id)
    r = put(
        client,
        own,
        _session(1),
        [
            {"member_id": members[0].id, "status": "present"},
            {"member_id": members[1].id, "status": "late", "note": "bus"},
        ],
    )
    assert r.status_code == 200, r.json
    assert _session(1).status == "held"
    r = put(client, own, _session(1), [{"member_id": members[1].id, "status": "present"}])
    entry = AuditEntry.query.filter_by(action="attendance.record").order_by(AuditEntry.id.desc()).first()
    assert (entry.before["status"], entry.after["status"]) == ("late", "present")


def test_recording_rules(client, cohort, auth, facilitator_auth, make_facilitator, later):
    group, members = cohort
    assert (
        put(client, auth, _session(1), [{"member_id": members[0].id, "status": "present"}]).status_code == 409
    )
    later(1)
    bad = put(client, auth, _session(1), [{"member_id": 99999, "status": "present"}])
    assert bad.status_code == 422 and "99999" in str(bad.json["errors"]["json"]["records"])
    wrong = put(client, auth, _session(1), [{"member_id": members[0].id, "status": "asleep"}])
    assert wrong.status_code == 422
    other = facilitator_auth(make_facilitator(7).id)
    assert (
        put(client, other, _session(1), [{"member_id": members[0].id, "status": "present"}]).status_code
        == 403
    )
    assert _session(1).status == "scheduled"


def test_x_reply_prefill_can_be_changed(client, cohort, auth, later, db):
    from ipt_groups.checkins.inbox import receive_sms

    group, members = cohort
    receive_sms("SMx1", members[0].phone, "X", NOW)
    db.session.commit()
    later(1)
    r = put(client, auth, _session(1), [{"member_id": members[0].id, "status": "present"}])
    assert r.json[0]["status"] == "present" and r.json[0]["source"] == "facilitator"


def test_two_absences_in_a_row_raise_one_outreach_task(client, cohort, auth, later, app, monkeypatch):
    monkeypatch.setitem(app.config, "MISSED_YOU_TEXT", True)
    group, members = cohort
    for n in (1, 2, 3):
        later(n)
        put(
            client,
            auth,
            _session(n),
            [
                {"member_id": members[0].id, "status": "absent"},
                {"member_id": members[1].id, "status": "present"},
            ],
        )
    alerts = Alert.query.filter_by(kind="outreach").all()
    assert len(alerts) == 1 and alerts[0].member_id == members[0].id
    missed = Message.query.filter_by(kind="missed_you").one()
    assert missed.member_id == members[0].id
    listed = client.get("/api/v1/alerts?kind=outreach", headers=auth).json
    assert [a["member_id"] for a in listed] == [members[0].id]


def test_member_who_cannot_complete_is_flagged(client, cohort, auth, later):
    group, members = cohort
    for n in (1, 2, 3, 4):
        later(n)
        put(client, auth, _session(n), [{"member_id": members[2].id, "status": "absent"}])
    flagged = Alert.query.filter_by(kind="cannot_complete").all()
    assert [a.member_id for a in flagged] == [members[2].id]


def _record_some(client, auth, later, members):
    for n, statuses in ((1, ["present", "present", "absent"]), (2, ["present", "late", "excused"])):
        later(n)
        put(
            client,
            auth,
            _session(n),
            [{"member_id": m.id, "status": s} for m, s in zip(members, statuses, strict=True)],
        )


def test_sheet_json_csv_pdf(client, cohort, auth, later):
    group, members = cohort
    _record_some(client, auth, later, members)
    url = f"/api/v1/groups/{group.id}/attendance-sheet"
    sheet = client.get(url, headers=auth)
    assert sheet.status_code == 200 and sheet.is_json
    rows = {r["member"]["name"]: r for r in sheet.json["members"]}
    assert rows["Zoë Müller"]["phases"]["initial"] == {"attended": 2, "held": 2, "rate": 1.0}
    as_csv = client.get(url, headers={**auth, "Accept": "text/csv"})
    assert as_csv.mimetype == "text/csv"
    text = as_csv.data.decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(text)))
    names = [row[0] for row in parsed[1:]]
    assert set(names) == {"Zoë Müller", "O'Brien, Pat", '\'=HYPERLINK("x")'}
    pdf = client.get(url + "?format=pdf", headers=auth)
    assert pdf.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.data))
    roster = reader.pages[0].extract_text()
    assert len(reader.pages) >= 2 and "Zoë Müller" in roster and "O'Brien, Pat" in roster
    assert "grief" not in " ".join(p.extract_text() for p in reader.pages).lower()


def test_sheet_is_403_for_another_facilitator(client, cohort, facilitator_auth, make_facilitator):
    group, _ = cohort
    other = facilitator_auth(make_facilitator(7).id)
    assert client.get(f"/api/v1/groups/{group.id}/attendance-sheet", headers=other).status_code == 403
    assert (
        client.get(
            f"/api/v1/groups/{group.id}/attendance-sheet", headers=facilitator_auth(group.facilitator_id)
        ).status_code
        == 200
    )


def test_programme_report_json_and_csv(client, cohort, auth, later, facilitator_auth):
    group, members = cohort
    _record_some(client, auth, later, members)
    r = client.get("/api/v1/reports/attendance", headers=auth)
    initial = next(x for x in r.json["rows"] if x["phase"] == "initial")
    assert (initial["held_sessions"], initial["attended"]) == (2, 4)
    assert (initial["enrolled_members"], initial["expected"]) == (3, 6)
    as_csv = client.get("/api/v1/reports/attendance?format=csv", headers=auth)
    assert len(list(csv.reader(io.StringIO(as_csv.data.decode("utf-8-sig"))))) == 1 + 2
    later_only = client.get("/api/v1/reports/attendance?from_date=2026-12-05", headers=auth).json["rows"]
    assert next(x for x in later_only if x["phase"] == "initial")["held_sessions"] == 1
    assert (
        client.get("/api/v1/reports/attendance", headers=facilitator_auth(group.facilitator_id)).status_code
        == 403
    )


def test_calendar_feed_by_token_or_key_and_moves_update(
    client, cohort, auth, facilitator_auth, make_facilitator
):
    group, _ = cohort
    fid = group.facilitator_id
    url = f"/api/v1/facilitators/{fid}/calendar.ics"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=facilitator_auth(make_facilitator(7).id)).status_code == 403
    link = client.get(f"/api/v1/facilitators/{fid}/calendar-link", headers=facilitator_auth(fid)).json["url"]
    s3 = _session(3)
    client.patch(f"/api/v1/sessions/{s3.id}", json={"local_start": "19:00"}, headers=auth)
    feed = client.get(link.replace("http://localhost", ""))
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    events = {str(e["UID"]): e for e in Calendar.from_ical(feed.data).walk("VEVENT")}
    assert len([u for u in events if u.startswith("session-")]) == 12
    moved = events[f"session-{s3.id}@ipt-groups"]
    assert int(moved["SEQUENCE"]) == 1 and moved.decoded("DTSTART") == _session(3).starts_at
    assert "grief" not in feed.data.decode().lower()
    assert client.get(link.replace("http://localhost", "")[:-3] + "xyz").status_code == 404
