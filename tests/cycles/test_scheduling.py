"""Cycles through the API: sessions keep local time, reminders follow moves and cancellations,
late joiners are refused after the closed-cohort limit, and bad input changes nothing."""

from datetime import UTC, datetime, timedelta

import pytest

from ipt_groups.groups.operations import create_group, enrol_member
from ipt_groups.models import AuditEntry, GroupSession, IndividualMeeting, Message
from tests.conftest import NOW, count


@pytest.fixture
def group(db, make_facilitator, make_member):
    """A New York group on Tuesdays 18:00 with three members, one of them in Tokyo."""

    def make(tz="America/New_York", day="tue", start="18:00", members=3):
        facilitator = make_facilitator(0, timezone=tz)
        g = create_group(
            {
                "name": "Tuesday evening",
                "problem_area": "grief",
                "language": "en",
                "day": day,
                "start_time": start,
                "facilitator_id": facilitator.id,
                "timezone": tz,
            },
            "test",
            NOW,
        )
        for i in range(members):
            member = make_member(i, timezone="Asia/Tokyo" if i == 2 else tz)
            enrol_member(g, member, {}, "test", NOW)
        db.session.commit()
        return g

    return make


def _member_ids(group) -> list[int]:
    return sorted(e.member_id for e in group.enrolments)


def _start(client, auth, group_id, **body):
    return client.post(
        f"/api/v1/groups/{group_id}/cycle", json={"first_date": "2027-03-02", **body}, headers=auth
    )


@pytest.mark.parametrize(
    ("tz", "first", "day", "before_utc", "after_utc"),
    [
        ("America/New_York", "2027-03-02", "tue", "2027-03-02T23:00:00+00:00", "2027-03-16T22:00:00+00:00"),
        ("Europe/London", "2027-03-23", "tue", "2027-03-23T18:00:00+00:00", "2027-03-30T17:00:00+00:00"),
        ("Australia/Sydney", "2027-03-30", "tue", "2027-03-30T07:00:00+00:00", "2027-04-06T08:00:00+00:00"),
    ],
)
def test_sessions_keep_local_hour_across_dst(client, auth, group, tz, first, day, before_utc, after_utc):
    g = group(tz=tz, day=day)
    r = _start(client, auth, g.id, first_date=first)
    assert r.status_code == 201, r.json
    sessions = r.json["sessions"]
    assert len(sessions) == 12 and {s["local_start"] for s in sessions} == {"18:00"}
    assert sessions[0]["starts_at"] == before_utc
    assert after_utc in [s["starts_at"] for s in sessions]
    assert [s["phase"] for s in sessions] == ["initial"] * 4 + ["middle"] * 5 + ["termination"] * 3


def test_cycle_plans_every_reminder_once(client, auth, group):
    g = group()
    r = _start(client, auth, g.id, template="who-8")
    assert r.status_code == 201
    # 8 sessions x (3 members x 2 + facilitator 1) + 3 pre-group meetings x 2, then check-ins:
    # 8 sessions x 3 members + the PHQ-9 before each pre-group meeting
    assert Message.query.filter(Message.kind != "checkin").count() == 8 * 7 + 3 * 2
    assert Message.query.filter_by(kind="checkin").count() == 8 * 3 + 3
    assert {m.context["instrument"] for m in Message.query.filter_by(kind="checkin")} == {"phq9", "phq2"}
    assert count(IndividualMeeting) == 3
    assert len({m.dedupe_key for m in Message.query}) == count(Message)
    again = _start(client, auth, g.id, template="who-8")
    assert again.status_code == 409 and count(Message) == 62 + 27


def test_quiet_hours_hold_in_the_members_own_timezone(client, auth, group):
    g = group()
    _start(client, auth, g.id)
    first = GroupSession.query.filter_by(number=1).one()
    ids = _member_ids(g)
    tokyo = Message.query.filter_by(session_id=first.id, kind="reminder_2h", member_id=ids[2]).one()
    # 18:00 New York is 08:00 Tokyo; 2 h before is 06:00 Tokyo, quiet, so it goes at 20:59 the evening before
    assert tokyo.due_at == datetime(2027, 3, 2, 11, 59, tzinfo=UTC)
    local_ny = Message.query.filter_by(session_id=first.id, kind="reminder_2h", member_id=ids[0]).one()
    assert local_ny.due_at == first.starts_at.replace(hour=first.starts_at.hour - 2)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"template": "ipt-g-99"}, "template"),
        ({"first_date": "2026-11-17"}, "first_date"),
        ({"first_date": "2027-03-03"}, "first_date"),
        ({"first_date": "not a date"}, "first_date"),
        ({"skip_dates": ["2027-13-01"]}, "skip_dates"),
    ],
)
def test_bad_cycle_requests_change_nothing(client, auth, group, body, field):
    g = group()
    r = _start(client, auth, g.id, **body)
    assert r.status_code == 422
    assert field in r.json["errors"]["json"]
    assert count(GroupSession) == 0 and count(Message) == 0


def test_custom_template_with_a_gap_is_refused(client, auth):
    doc = {
        "key": "my-6",
        "name": "Six",
        "sessions": 6,
        "phases": [
            {"name": "initial", "first": 1, "last": 2},
            {"name": "middle", "first": 4, "last": 5},
            {"name": "termination", "first": 6, "last": 6},
        ],
    }
    r = client.post("/api/v1/cycle-templates", json=doc, headers=auth)
    assert r.status_code == 422 and any("phases" in k for k in r.json["errors"]["json"])
    doc["phases"][1]["first"] = 3
    assert client.post("/api/v1/cycle-templates", json=doc, headers=auth).status_code == 201
    keys = [t["key"] for t in client.get("/api/v1/cycle-templates", headers=auth).json]
    assert {"who-8", "ipt-g-12", "ipt-g-16", "wilfley-20", "my-6"} <= set(keys)


def _session(number):
    return GroupSession.query.filter_by(number=number).one()


def _pending(session_id):
    return Message.query.filter_by(session_id=session_id, state="pending").all()


def test_move_session_moves_its_reminders_and_tells_members_once(client, auth, group):
    g = group()
    _start(client, auth, g.id)
    s3 = _session(3)
    r = client.patch(
        f"/api/v1/sessions/{s3.id}", json={"local_date": "2027-03-17", "local_start": "19:00"}, headers=auth
    )
    assert r.status_code == 200, r.json
    assert r.json["starts_at"] == "2027-03-17T23:00:00+00:00"
    reminders = {m.kind: m for m in _pending(s3.id) if m.member_id == _member_ids(g)[0]}
    assert reminders["reminder_24h"].due_at == datetime(2027, 3, 16, 23, 0, tzinfo=UTC)
    assert reminders["change_notice"].due_at == NOW
    assert Message.query.filter_by(kind="change_notice").count() == 3


def test_move_onto_another_session_or_a_held_one_is_refused(client, auth, group, db):
    g = group()
    _start(client, auth, g.id)
    s3, s4 = _session(3), _session(4)
    r = client.patch(
        f"/api/v1/sessions/{s3.id}", json={"local_date": s4.local_date.isoformat()}, headers=auth
    )
    assert r.status_code == 422 and "local_start" in r.json["errors"]["json"]
    s4.status = "held"
    db.session.commit()
    r = client.patch(f"/api/v1/sessions/{s4.id}", json={"local_start": "19:00"}, headers=auth)
    assert r.status_code == 409
    assert _session(4).local_start == "18:00" and Message.query.filter_by(kind="change_notice").count() == 0


def test_cancel_with_shift_keeps_n_sessions_and_moves_their_messages(client, auth, group):
    g = group()
    _start(client, auth, g.id)
    s5, s12 = _session(5), _session(12)
    old_12 = s12.starts_at
    r = client.patch(f"/api/v1/sessions/{s5.id}", json={"status": "cancelled", "shift": True}, headers=auth)
    assert r.status_code == 200, r.json
    sessions = GroupSession.query.order_by(GroupSession.number).all()
    assert len(sessions) == 12 and all(s.status == "scheduled" for s in sessions)
    assert _session(12).starts_at == old_12 + timedelta(days=7)
    for s in sessions[4:]:
        for m in _pending(s.id):
            if m.kind == "checkin":
                assert s.starts_at + timedelta(days=2) <= m.due_at < s.starts_at + timedelta(days=3)
            else:
                assert m.deadline_at == s.starts_at and m.due_at < s.starts_at
    notices = Message.query.filter_by(kind="change_notice").all()
    assert len(notices) == 3 and {n.context["text"] for n in notices} == {"session_cancelled_shifted"}


def test_cancel_without_shift_cancels_the_session_and_its_messages(client, auth, group):
    g = group()
    _start(client, auth, g.id)
    s5 = _session(5)
    r = client.patch(
        f"/api/v1/sessions/{s5.id}", json={"status": "cancelled", "reason": "holiday"}, headers=auth
    )
    assert r.json["status"] == "cancelled"
    states = {m.kind: m.state for m in Message.query.filter_by(session_id=s5.id, member_id=_member_ids(g)[0])}
    assert states == {
        "reminder_24h": "cancelled",
        "reminder_2h": "cancelled",
        "checkin": "cancelled",
        "change_notice": "pending",
    }
    assert _session(6).starts_at > _session(5).starts_at  # the others stay
    again = client.patch(f"/api/v1/sessions/{s5.id}", json={"status": "cancelled"}, headers=auth)
    assert again.status_code == 409


def test_move_and_cancel_together_is_refused(client, auth, group):
    g = group()
    _start(client, auth, g.id)
    r = client.patch(
        f"/api/v1/sessions/{_session(2).id}",
        json={"status": "cancelled", "local_start": "19:00"},
        headers=auth,
    )
    assert r.status_code == 422 and "status" in r.json["errors"]["json"]


def test_facilitator_sees_own_sessions_only(client, group, facilitator_auth, make_facilitator, auth):
    g = group()
    _start(client, auth, g.id)
    own = facilitator_auth(g.facilitator_id)
    other = facilitator_auth(make_facilitator(9).id)
    assert client.get(f"/api/v1/groups/{g.id}/sessions", headers=own).status_code == 200
    assert client.get(f"/api/v1/groups/{g.id}/sessions", headers=other).status_code == 403
    assert client.get(f"/api/v1/sessions/{_session(1).id}", headers=other).status_code == 403
    assert (
        client.patch(
            f"/api/v1/sessions/{_session(1).id}", json={"local_start": "19:00"}, headers=own
        ).status_code
        == 403
    )


def test_messages_api_filters(client, auth, group):
    g = group()
    _start(client, auth, g.id)
    first = _member_ids(g)[0]
    r = client.get(f"/api/v1/messages?member_id={first}&kind=reminder_2h&page_size=100", headers=auth)
    assert r.status_code == 200 and len(r.json) == 12 + 1  # 12 sessions + the pre-group meeting
    assert {m["member_id"] for m in r.json} == {first}
    assert client.get("/api/v1/messages?state=lost", headers=auth).status_code == 422


def test_closed_cohort_refuses_late_joiners_unless_overridden(
    client, auth, group, make_member, app, monkeypatch
):
    g = group()
    _start(client, auth, g.id)
    newcomer = make_member(7)
    url = f"/api/v1/groups/{g.id}/members/{newcomer.id}"
    monkeypatch.setitem(app.config, "FIXED_NOW", _session(2).starts_at + timedelta(minutes=1))
    early = client.post(url, json={}, headers=auth)
    assert early.status_code == 201  # during session 2: still open
    client.delete(url, headers=auth)
    monkeypatch.setitem(app.config, "FIXED_NOW", _session(3).starts_at + timedelta(minutes=1))
    late = client.post(url, json={}, headers=auth)
    assert late.status_code == 409 and "override_late_join" in late.json["errors"]["json"]
    forced = client.post(url, json={"override_late_join": True}, headers=auth)
    assert forced.status_code == 201 and forced.json["late_join_override"] is True
    entry = AuditEntry.query.filter_by(action="group.enrol").order_by(AuditEntry.id.desc()).first()
    assert entry.after["late_join_override"] is True and entry.actor.startswith("coordinator:")


def test_a_late_joiner_gets_the_remaining_reminders_and_a_leaver_none(client, auth, group, make_member):
    g = group()
    _start(client, auth, g.id)
    newcomer = make_member(7)
    assert (
        client.post(f"/api/v1/groups/{g.id}/members/{newcomer.id}", json={}, headers=auth).status_code == 201
    )
    mine = Message.query.filter_by(member_id=newcomer.id)
    assert mine.filter_by(kind="reminder_24h").count() == 12 + 1  # every session and the pre-group meeting
    assert mine.filter_by(kind="checkin").count() == 12 + 1
    assert client.delete(f"/api/v1/groups/{g.id}/members/{newcomer.id}", headers=auth).status_code == 204
    assert {m.state for m in Message.query.filter_by(member_id=newcomer.id)} == {"cancelled"}
    assert {m.status for m in IndividualMeeting.query.filter_by(member_id=newcomer.id)} == {"cancelled"}


def test_withdrawing_a_member_cancels_their_messages(client, auth, group):
    g = group()
    _start(client, auth, g.id)
    first = _member_ids(g)[0]
    client.patch(f"/api/v1/members/{first}", json={"status": "withdrawn"}, headers=auth)
    assert {m.state for m in Message.query.filter_by(member_id=first)} == {"cancelled"}
    assert Message.query.filter_by(member_id=_member_ids(g)[1], state="pending").count() > 0


def test_facilitator_books_an_individual_meeting_and_its_messages_follow(
    client, auth, group, facilitator_auth
):
    g = group()
    _start(client, auth, g.id)
    own = facilitator_auth(g.facilitator_id)
    listed = client.get(f"/api/v1/groups/{g.id}/meetings", headers=own).json
    assert len(listed) == 3 and {m["kind"] for m in listed} == {"pre_group"}
    meeting = IndividualMeeting.query.filter_by(member_id=_member_ids(g)[0]).one()
    r = client.patch(
        f"/api/v1/meetings/{meeting.id}",
        json={"local_date": "2027-02-25", "local_start": "10:00"},
        headers=own,
    )
    assert r.status_code == 200, r.json
    assert r.json["starts_at"] == "2027-02-25T15:00:00+00:00"
    reminder = Message.query.filter_by(meeting_id=meeting.id, kind="reminder_24h", state="pending").one()
    assert reminder.due_at == datetime(2027, 2, 24, 15, 0, tzinfo=UTC)
    checkin = Message.query.filter_by(meeting_id=meeting.id, kind="checkin").one()
    assert (
        checkin.due_at == datetime(2027, 2, 24, 15, 0, tzinfo=UTC)
        and checkin.deadline_at == reminder.deadline_at
    )
    assert (
        client.patch(
            f"/api/v1/meetings/{meeting.id}", json={"local_date": "2027-02-25"}, headers=own
        ).status_code
        == 422
    )
    cancelled = client.patch(f"/api/v1/meetings/{meeting.id}", json={"status": "cancelled"}, headers=own)
    assert cancelled.json["status"] == "cancelled"
    assert {m.state for m in Message.query.filter_by(meeting_id=meeting.id)} == {"cancelled"}
    assert (
        client.patch(f"/api/v1/meetings/{meeting.id}", json={"status": "cancelled"}, headers=own).status_code
        == 409
    )
