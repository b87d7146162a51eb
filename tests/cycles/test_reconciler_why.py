"""Issue 13, one test per problem found on running cycles: every change keeps what was planned true."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ipt_groups.cycles import operations
from ipt_groups.extensions import db as _db
from ipt_groups.groups.operations import create_group, enrol_member
from ipt_groups.messaging.base import RecordingSender
from ipt_groups.messaging.content import compose
from ipt_groups.messaging.dispatch import run_tick
from ipt_groups.messaging.recipients import resolve_recipient
from ipt_groups.messaging.twilio import compute_twilio_signature
from ipt_groups.models import Cycle, GroupSession, IndividualMeeting, Member, Message
from ipt_groups.worker import dispatch_settings
from tests.conftest import NOW

TOKEN = "test-auth-token"
CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture(autouse=True)
def twilio_config(app, monkeypatch):
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", TOKEN)


def _session(number: int) -> GroupSession:
    return GroupSession.query.filter_by(number=number).one()


def _pending(**where) -> list[Message]:
    return Message.query.filter_by(state="pending", **where).order_by(Message.id).all()


def _send_due(at: datetime) -> RecordingSender:
    sender = RecordingSender()
    run_tick(sender, at, dispatch_settings("test"))
    return sender


def _move(client, auth, session: GroupSession, day: date, start: str = "18:00"):
    body = {"local_date": day.isoformat(), "local_start": start}
    r = client.patch(f"/api/v1/sessions/{session.id}", json=body, headers=auth)
    assert r.status_code == 200, r.json
    return r


def test_a_session_moved_after_its_reminders_went_out_gets_reminders_for_its_new_time(
    client, auth, app, member, monkeypatch
):
    s3 = _session(3)
    first_2h = Message.query.filter_by(session_id=s3.id, member_id=member.id, kind="reminder_2h").one()
    _send_due(first_2h.due_at)  # the 24 h and 2 h reminders of the old time went out
    assert {m.state for m in Message.query.filter_by(session_id=s3.id, member_id=member.id)} >= {"sent"}
    monkeypatch.setitem(app.config, "FIXED_NOW", first_2h.due_at + timedelta(minutes=30))
    _move(client, auth, s3, s3.local_date + timedelta(days=2))
    kinds = {m.kind for m in _pending(session_id=s3.id, member_id=member.id)}
    assert {"reminder_24h", "reminder_2h", "change_notice"} <= kinds
    new = _pending(session_id=s3.id, member_id=member.id, kind="reminder_24h")[0]
    assert new.deadline_at == _session(3).starts_at and new.dedupe_key.endswith(
        f"{_session(3).starts_at:%Y%m%dT%H%M}"
    )


def test_tue_thu_tue_thu_announces_the_net_change_once(client, auth, member):
    s3 = _session(3)
    tue, thu = s3.local_date, s3.local_date + timedelta(days=2)
    for day in (thu, tue, thu):
        _move(client, auth, s3, day)
    notices = Message.query.filter_by(kind="change_notice", member_id=member.id).all()
    assert [(n.state, n.context["text"]) for n in notices] == [("pending", "session_moved")]
    assert notices[0].context["new_start"] == _session(3).starts_at.isoformat()
    # back to the original time before the notice went out: nothing to announce
    _move(client, auth, s3, tue)
    assert _pending(kind="change_notice") == []


def test_each_net_change_is_announced_once_when_notices_went_out_between(
    client, auth, app, member, monkeypatch
):
    s3 = _session(3)
    tue, thu = s3.local_date, s3.local_date + timedelta(days=2)
    for i, day in enumerate((thu, tue, thu)):
        _move(client, auth, s3, day)
        later = NOW + timedelta(hours=3 + i)  # from 09:00 in Chicago: out of quiet hours
        _send_due(later)
        monkeypatch.setitem(app.config, "FIXED_NOW", later + timedelta(minutes=1))
    sent = Message.query.filter_by(kind="change_notice", member_id=member.id, state="sent")
    sent = sent.order_by(Message.id).all()
    said = [
        datetime.fromisoformat(n.context["new_start"]).astimezone(CHICAGO).date().isoformat() for n in sent
    ]
    assert said == [thu.isoformat(), tue.isoformat(), thu.isoformat()][: len(said)] and len(said) == 3
    assert "Thu" in sent[-1].body  # the last move is announced


def test_a_new_facilitator_gets_the_roster_reminders_and_the_former_one_none(
    client, auth, member, make_facilitator
):
    group_id = _session(1).group_id
    former = Message.query.filter_by(kind="facilitator_24h").first().facilitator_id
    new = make_facilitator(5, timezone="America/Chicago")
    r = client.patch(f"/api/v1/groups/{group_id}", json={"facilitator_id": new.id}, headers=auth)
    assert r.status_code == 200, r.json
    assert _pending(kind="facilitator_24h", facilitator_id=former) == []
    assert len(_pending(kind="facilitator_24h", facilitator_id=new.id)) == 12
    gone = Message.query.filter_by(kind="facilitator_24h", facilitator_id=former).first()
    assert gone.state == "cancelled" and "new facilitator" in gone.reason


def test_a_new_slot_after_sessions_were_held_moves_the_future_sessions_with_notice(
    client, auth, app, member, monkeypatch
):
    group_id = _session(1).group_id
    s1, s2_date = _session(1), _session(2).local_date
    monkeypatch.setitem(app.config, "FIXED_NOW", s1.starts_at + timedelta(hours=2))
    put = client.put(
        f"/api/v1/sessions/{s1.id}/attendance",
        json={"records": [{"member_id": member.id, "status": "present"}]},
        headers=auth,
    )
    assert put.status_code == 200
    r = client.patch(f"/api/v1/groups/{group_id}", json={"day": "wed", "start_time": "19:00"}, headers=auth)
    assert r.status_code == 200, r.json
    assert (_session(1).local_date, _session(1).local_start) == (s1.local_date, "18:00")  # held: stays
    assert (_session(2).local_date, _session(2).local_start) == (s2_date + timedelta(days=1), "19:00")
    assert {s.local_start for s in GroupSession.query if s.number > 1} == {"19:00"}
    notices = _pending(kind="change_notice", member_id=member.id)  # one notice per member, not per session
    assert [(n.session_id, n.context["text"]) for n in notices] == [(_session(2).id, "session_slot_moved")]


def test_cancel_with_shift_moves_individual_meetings_and_records_the_cancelled_date(
    db, make_facilitator, make_member
):
    lead = make_facilitator(0)
    group = create_group(
        {
            "name": "G",
            "problem_area": "grief",
            "language": "en",
            "day": "tue",
            "start_time": "18:00",
            "facilitator_id": lead.id,
        },
        "test",
        NOW,
    )
    enrol_member(group, make_member(0), {}, "test", NOW)
    operations.start_cycle(group, {"first_date": date(2026, 12, 1), "template": "wilfley-20"}, "test", NOW)
    db.session.commit()
    cancelled_date = _session(5).local_date
    operations.cancel_session(_session(5), True, None, "test", NOW)
    db.session.commit()
    mid = IndividualMeeting.query.filter_by(kind="mid_group").one()
    post = IndividualMeeting.query.filter_by(kind="post_group").one()
    assert _session(10).starts_at < mid.starts_at < _session(11).starts_at
    assert post.starts_at > _session(20).starts_at
    assert cancelled_date.isoformat() in _db.session.scalar(_db.select(Cycle.skip_dates))
    notice = _pending(kind="change_notice")
    assert [n.context["text"] for n in notice] == ["session_cancelled_shifted"]
    reminder = _pending(meeting_id=mid.id, kind="reminder_24h")[0]
    assert reminder.deadline_at == mid.starts_at


def test_which_day_a_text_names_is_seen_from_when_it_really_goes_out(member):
    s1 = _session(1)  # Tue 1 Dec 18:00 Chicago
    reminder = Message.query.filter_by(session_id=s1.id, member_id=member.id, kind="reminder_24h").one()
    recipient = resolve_recipient(reminder)
    settings = dispatch_settings("test")
    sunday_evening = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Sun 29 Nov 20:00 Chicago
    assert "soon, Tue 01 Dec" in compose(reminder, recipient, settings, sunday_evening)
    monday = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # Mon 30 Nov 18:00 Chicago
    assert "tomorrow, Tue 01 Dec" in compose(reminder, recipient, settings, monday)
    same_day = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # Tue 09:00 Chicago: booked late, sent today
    assert "today, Tue 01 Dec" in compose(reminder, recipient, settings, same_day)


def test_a_session_in_a_dst_gap_reports_its_real_local_start(client, auth, db, make_facilitator, make_member):
    lead = make_facilitator(0, timezone="America/New_York")
    group = create_group(
        {
            "name": "Night",
            "problem_area": "grief",
            "language": "en",
            "day": "sun",
            "start_time": "02:30",
            "facilitator_id": lead.id,
            "timezone": "America/New_York",
        },
        "test",
        NOW,
    )
    db.session.commit()
    r = client.post(f"/api/v1/groups/{group.id}/cycle", json={"first_date": "2027-03-07"}, headers=auth)
    assert r.status_code == 201, r.json
    gap = next(s for s in r.json["sessions"] if s["local_date"] == "2027-03-14")
    assert gap["local_start"] == "03:30" and gap["starts_at"] == "2027-03-14T07:30:00+00:00"
    assert r.json["sessions"][0]["local_start"] == r.json["sessions"][2]["local_start"] == "02:30"


_SIDS = itertools.count(1)


def _sms(client, body, sender="+13125551000"):
    params = {"MessageSid": f"SM{next(_SIDS):032d}", "From": sender, "To": "+12025550100", "Body": body}
    sig = compute_twilio_signature(TOKEN, "http://localhost/twilio/sms", params)
    return client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": sig})


def test_start_after_stop_replans_the_rest_of_the_cycle(client, member):
    planned = {m.dedupe_key for m in _pending(member_id=member.id)}
    assert len(planned) > 30
    assert _sms(client, "STOP").status_code == 200
    assert _pending(member_id=member.id) == []
    assert _sms(client, "START").status_code == 200
    assert {m.dedupe_key for m in _pending(member_id=member.id)} == planned


def test_a_21610_status_callback_opts_the_member_out_and_cancels_what_is_pending(client, member):
    message = _pending(member_id=member.id)[0]
    message.state, message.provider_id = "sent", "SM21610"
    _db.session.commit()
    params = {"MessageSid": "SM21610", "MessageStatus": "undelivered", "ErrorCode": "21610"}
    sig = compute_twilio_signature(TOKEN, "http://localhost/twilio/status", params)
    assert client.post("/twilio/status", data=params, headers={"X-Twilio-Signature": sig}).status_code == 204
    stored = _db.session.get(Member, member.id)
    assert stored.opted_out_at is not None and stored.sms_consent is False
    assert _pending(member_id=member.id) == []


def test_c_after_x_withdraws_the_cant_come_notice_and_the_rsvp_picture_shows_it(
    client, auth, member, facilitator_auth
):
    s1 = _session(1)
    own = facilitator_auth(s1.group.facilitator_id)
    _sms(client, "X")
    assert [m.state for m in Message.query.filter_by(kind="rsvp_notice")] == ["pending"]
    picture = client.get(f"/api/v1/sessions/{s1.id}/rsvps", headers=own)
    assert picture.status_code == 200 and picture.json["counts"] == {
        "confirmed": 0,
        "cant_come": 1,
        "no_answer": 0,
    }
    _sms(client, "C")
    assert [m.state for m in Message.query.filter_by(kind="rsvp_notice")] == ["cancelled"]
    picture = client.get(f"/api/v1/sessions/{s1.id}/rsvps", headers=auth).json
    assert picture["members"][0]["rsvp"] == "confirmed" and picture["members"][0]["name"] == "Member 0"


def test_c_after_an_x_notice_went_out_tells_the_facilitator_once(client, member):
    _sms(client, "X")
    _send_due(NOW + timedelta(hours=3))  # 09:00 in Chicago: out of quiet hours
    _sms(client, "C")
    _sms(client, "C")
    notices = Message.query.filter_by(kind="rsvp_notice").order_by(Message.id).all()
    assert [n.state for n in notices] == ["sent", "pending"] and "after all" in notices[1].context["body"]


def test_rsvp_picture_is_for_the_groups_facilitator_and_coordinators(
    client, member, facilitator_auth, make_facilitator
):
    other = facilitator_auth(make_facilitator(8).id)
    assert client.get(f"/api/v1/sessions/{_session(1).id}/rsvps", headers=other).status_code == 403


def test_first_date_beyond_the_calendar_is_a_422(client, auth, make_facilitator, make_group):
    group = make_group(make_facilitator(0).id, day="mon")
    r = client.post(f"/api/v1/groups/{group.id}/cycle", json={"first_date": "9999-12-20"}, headers=auth)
    assert r.status_code == 422 and "first_date" in r.json["errors"]["json"]
    assert Cycle.query.count() == 0


def test_a_session_moved_beyond_the_calendar_is_a_422(client, auth, member):
    r = client.patch(f"/api/v1/sessions/{_session(12).id}", json={"local_date": "9999-12-31"}, headers=auth)
    assert r.status_code == 422 and "local_date" in r.json["errors"]["json"]
