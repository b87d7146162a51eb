"""Invitations: committing a proposal invites; YES/SÍ enrols, NO or silence past the deadline returns
the member to the waitlist and offers the seat at once to the best next member for that group (its
bucket, their availability, its facilitator) until the late-join limit; one answer wins the last seat;
STOP cancels the offer; open seats in existing groups are filled before new groups are formed."""

import os
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from ipt_groups.checkins.inbox import receive_sms
from ipt_groups.checkins.sending import KINDS
from ipt_groups.cycles.operations import start_cycle
from ipt_groups.formation import invitations, seats
from ipt_groups.groups.operations import enrol_member
from ipt_groups.messaging.base import RecordingSender
from ipt_groups.messaging.dispatch import DispatchSettings, run_tick
from ipt_groups.messaging.timing import QuietHours
from ipt_groups.models import Alert, AuditEntry, Coordinator, Enrolment, Invitation, Member, Message
from ipt_groups.worker import ON_TICK
from tests.conftest import NOW
from tests.web.conftest import sign_in

FIRST = datetime(2026, 12, 9, 0, 0, tzinfo=UTC)  # Tue 08 Dec 18:00 in Chicago
TUE_8 = "Tue 08 Dec at 18:00"
DAYTIME = NOW + timedelta(hours=3)  # 09:00 in Chicago: outside quiet hours
MON = [{"day": "mon", "start": "17:00", "end": "21:00"}]
TAKEN = "Sorry Member, that place has just been taken. You stay on our list and we will be in touch soon."
_sid = iter(range(1, 10**6))


@pytest.fixture
def group(db, make_facilitator, make_group):
    """A Tuesday 18:00 Chicago grief group in English, max 3, planned to start on 8 December."""
    g = make_group(make_facilitator(0).id, max_size=3, min_size=2, first_session_date=date(2026, 12, 8))
    db.session.commit()
    return g


def sms(member: Member, body: str, at: datetime = NOW) -> str | None:
    reply = receive_sms(f"SM{next(_sid):032d}", member.phone, body, at)
    invitations.db.session.commit()
    return reply


def tick(at: datetime, sender: RecordingSender | None = None) -> RecordingSender:
    sender = sender or RecordingSender()
    settings = DispatchSettings(
        kinds=KINDS, on_tick=ON_TICK, worker="t", batch=100, quiet=QuietHours(), programme="Wellbeing"
    )
    run_tick(sender, at, settings)
    return sender


def invite(db, group, member, at=NOW) -> Invitation:
    invitation = invitations.invite(group, member, FIRST, "test", at)
    db.session.commit()
    return invitation


def offer_to(member: Member) -> Invitation | None:
    return invitations.open_invitation(member.id)


def test_an_offer_names_the_first_meeting_and_the_deadline_and_has_one_reminder(db, group, make_member):
    member = make_member(0)
    invitation = invite(db, group, member)
    assert invitation.deadline_at == NOW + timedelta(hours=48)
    rows = {m.kind: m for m in db.session.scalars(select(Message).filter_by(member_id=member.id))}
    assert set(rows) == {"invitation", "invitation_reminder"}
    assert rows["invitation_reminder"].due_at == invitation.deadline_at - timedelta(hours=24)
    assert rows["invitation"].deadline_at == invitation.deadline_at
    [sent] = tick(DAYTIME).sent
    assert sent.body == (
        "Hi Member, Wellbeing has a place for you in a group: first meeting Tue 08 Dec at 18:00, then"
        " weekly. Reply YES to take it or NO if not, by Fri 27 Nov at 06:00."
    )
    assert "grief" not in sent.body.lower()


def test_yes_enrols_and_cancels_the_reminder(db, group, make_member):
    member = make_member(0)
    invitation = invite(db, group, member)
    reply = sms(member, "Yes!")
    assert (
        reply == f"Thanks Member, your place is confirmed. First meeting {TUE_8}; we will remind you before."
    )
    assert invitation.status == "accepted" and member.status == "enrolled"
    assert member.current_enrolment.group_id == group.id
    reminder = db.session.scalar(select(Message).filter_by(member_id=member.id, kind="invitation_reminder"))
    assert reminder.state == "cancelled"
    assert db.session.scalar(select(AuditEntry).filter_by(action="invitation.accepted")) is not None


def test_si_accepts_in_spanish(db, make_facilitator, make_group, make_member):
    spanish = make_group(make_facilitator(0).id, language="es", first_session_date=date(2026, 12, 8))
    rosa = make_member(0, name="Rosa Díaz", language="es")
    invite(db, spanish, rosa)
    [sent] = tick(DAYTIME).sent
    assert "Responda SÍ o NO" in sent.body and "mar 8 de dic" in sent.body
    assert sms(rosa, "sí") == (
        "Gracias, Rosa, su lugar está confirmado. Primera reunión mar 8 de dic, 18:00; le recordaremos antes."
    )
    assert rosa.status == "enrolled"


def test_no_returns_the_member_and_offers_the_seat_to_the_next_who_suits(db, group, make_member):
    member = make_member(0, waitlisted_at=NOW - timedelta(days=50))
    invite(db, group, member)
    other_language = make_member(1, language="es", waitlisted_at=NOW - timedelta(days=40))
    mondays_only = make_member(2, availability=MON, waitlisted_at=NOW - timedelta(days=30))
    other_area = make_member(3, problem_area="role_transition", waitlisted_at=NOW - timedelta(days=20))
    newer = make_member(4, waitlisted_at=NOW - timedelta(days=2))
    older = make_member(5, waitlisted_at=NOW - timedelta(days=10))
    assert (
        sms(member, "NO")
        == "Thanks for letting us know. You stay on our list and we will offer you another time."
    )
    declined = db.session.scalar(select(Invitation).filter_by(member_id=member.id))
    assert (declined.status, declined.reason) == ("declined", "declined by SMS")
    assert member.status == "waitlisted" and member.waitlisted_at == NOW - timedelta(days=50)
    for unsuited in (other_language, mondays_only, other_area, newer):
        assert offer_to(unsuited) is None
    assert offer_to(older).replaces_id == declined.id
    # the member who declined is never offered the same group again
    invitations.settle_invitations(NOW + timedelta(hours=49))
    assert offer_to(member) is None and offer_to(newer).group_id == group.id


def test_silence_past_the_deadline_returns_the_member_and_offers_the_seat(db, group, make_member):
    member = make_member(0)
    invitation = invite(db, group, member)
    nxt = make_member(1)
    tick(NOW + timedelta(hours=47, minutes=59))
    assert invitation.status == "offered"
    tick(NOW + timedelta(hours=48))
    assert (invitation.status, invitation.reason) == ("expired", "no reply by the deadline")
    assert member.status == "waitlisted" and offer_to(nxt).replaces_id == invitation.id


def test_a_mixed_group_offers_only_what_its_facilitator_leads(db, make_facilitator, make_group, make_member):
    lead = make_facilitator(0, problem_areas=[])  # leads any area: a mixed group
    mixed = make_group(lead.id, problem_area=None, first_session_date=date(2026, 12, 8))
    lead.problem_areas = ["grief"]  # then leads grief only
    db.session.commit()
    other_area = make_member(0, problem_area="role_dispute", waitlisted_at=NOW - timedelta(days=9))
    grief = make_member(1, waitlisted_at=NOW - timedelta(days=1))
    assert invitations.offer_seat(mixed, NOW).member_id == grief.id
    assert offer_to(other_area) is None


def test_no_offer_once_the_late_join_limit_is_reached(db, group, make_member):
    start_cycle(group, {"first_date": date(2026, 12, 1)}, "test", NOW)
    member = make_member(0)
    invite(db, group, member)
    nxt = make_member(1)
    after_session_3 = datetime(2026, 12, 16, 3, 0, tzinfo=UTC)  # session 3 began on 15 December
    assert invitations.open_group(group, after_session_3) is None
    sms(member, "no", at=after_session_3)
    assert offer_to(nxt) is None
    assert seats.seats(group, after_session_3)["taking_members"] is False


def test_two_answers_for_the_last_seat_one_wins_the_other_is_told_kindly(db, group, make_member):
    """Max 3, two members in. A is silent past the deadline, so the seat goes to B; A's late YES and
    B's YES then race for it: whoever comes first wins, the other is told the seat was taken."""
    for i in (10, 11):
        enrol_member(group, make_member(i), {}, "test", NOW)
    a, b = make_member(0, waitlisted_at=NOW - timedelta(days=9)), make_member(1)
    invite(db, group, a)
    invitations.settle_invitations(NOW + timedelta(hours=48))
    db.session.commit()
    assert offer_to(b) is not None
    later = NOW + timedelta(hours=50)
    assert sms(a, "YES", at=later).startswith("Thanks Member, your place is confirmed")
    # B's offer closed the moment the group filled, and B is texted
    assert offer_to(b) is None
    taken = db.session.scalar(select(Message).filter_by(member_id=b.id, kind="invitation_taken"))
    assert taken is not None and taken.state == "pending"
    assert sms(b, "YES", at=later) == TAKEN
    assert invitations.enrolled_count(group.id) == 3 and b.status == "waitlisted"


def two_offers_for_one_seat(db, group, make_member) -> tuple[Member, Member]:
    """A group of 3 with one member, offers to two more, then one enrolled by hand: one seat left."""
    enrol_member(group, make_member(10), {}, "test", NOW)
    a, b = make_member(0), make_member(1)
    invite(db, group, a)
    invite(db, group, b)
    enrol_member(group, make_member(11), {}, "test", NOW)
    db.session.commit()
    return a, b


def test_the_last_seat_goes_to_one_when_both_hold_an_offer(db, group, make_member):
    """Over-booked by hand (a coordinator enrolled someone directly): two offers, one seat left."""
    a, b = two_offers_for_one_seat(db, group, make_member)
    assert sms(b, "Y").startswith("Thanks Member, your place is confirmed")
    assert sms(a, "yes") == TAKEN
    assert {i.member_id: i.status for i in db.session.scalars(select(Invitation))} == {
        a.id: "too_late",
        b.id: "accepted",
    }
    assert db.session.query(Enrolment).filter_by(group_id=group.id, left_on=None).count() == 3


def test_stop_during_an_invitation_cancels_it_and_frees_the_seat(db, group, make_member):
    member = make_member(0, waitlisted_at=NOW - timedelta(days=9))
    invitation = invite(db, group, member)
    nxt = make_member(1)
    assert sms(member, "STOP") is None
    assert (invitation.status, invitation.reason) == ("cancelled", "the member texted STOP")
    assert {m.state for m in db.session.scalars(select(Message).filter_by(member_id=member.id))} == {
        "cancelled"
    }
    assert offer_to(nxt).replaces_id == invitation.id


def test_an_open_check_in_reads_yes_and_no_as_its_answers_not_the_offer(db, group, make_member):
    """Item 9 above all: a 'yes' while a check-in is open answers the check-in."""
    from ipt_groups.checkins.screening import start_sms_screen

    member = make_member(0)
    start_sms_screen(member, "test", NOW)
    db.session.commit()
    tick(DAYTIME)
    invitation = invitations.invite(group, member, FIRST, "test", NOW)
    db.session.commit()
    sms(member, "ok")
    for _ in range(8):
        sms(member, "1")
    reply = sms(member, "yes")
    assert invitation.status == "offered" and "988" in reply
    assert db.session.scalar(select(Alert).filter_by(member_id=member.id, kind="safety")) is not None


def test_a_yes_with_no_offer_is_an_ordinary_reply(db, make_member):
    member = make_member(0)
    assert sms(member, "YES").startswith("Thanks, your message was received")


def test_the_seats_show_accepted_waiting_declined_and_who_the_seat_went_to(
    client, auth, db, group, make_member
):
    a, b, c = (make_member(i, waitlisted_at=NOW - timedelta(days=9 - i)) for i in range(3))
    invite(db, group, a)
    invite(db, group, b)
    sms(a, "yes")
    sms(b, "no")  # the seat goes to c
    r = client.get(f"/api/v1/groups/{group.id}/seats", headers=auth)
    assert r.status_code == 200, r.json
    by_member = {s["member_id"]: s for s in r.json["seats"]}
    assert (by_member[a.id]["state"], by_member[b.id]["state"], by_member[c.id]["state"]) == (
        "accepted",
        "declined",
        "waiting",
    )
    assert by_member[b.id]["offered_next_to"] == c.id
    assert (r.json["enrolled"], r.json["open"], r.json["counts"]["waiting"]) == (1, 1, 1)


def test_a_coordinator_offers_a_seat_by_hand_under_the_same_rules(client, auth, db, group, make_member):
    fits, mondays = make_member(0), make_member(1, availability=MON)
    url = f"/api/v1/groups/{group.id}/invitations"
    assert client.post(url, json={"member_id": mondays.id}, headers=auth).status_code == 422
    r = client.post(url, json={"member_id": fits.id}, headers=auth)
    assert r.status_code == 201 and r.json["status"] == "offered"
    assert client.post(url, json={"member_id": fits.id}, headers=auth).status_code == 409
    listed = client.get(f"/api/v1/invitations?group_id={group.id}", headers=auth).json
    assert [i["member_id"] for i in listed] == [fits.id]


def test_a_small_group_is_flagged_once_with_the_choices(db, group, make_member):
    invite(db, group, make_member(0))
    week_before = FIRST - timedelta(days=6)
    assert seats.flag_small_groups(NOW) == 0  # 13 days before: not yet
    assert seats.flag_small_groups(week_before) == 1
    assert seats.flag_small_groups(week_before) == 0
    alert = db.session.scalar(select(Alert).filter_by(kind="small_group"))
    assert alert.group_id == group.id and alert.detail["choices"] == ["merge", "postpone", "start_smaller"]
    assert (alert.detail["accepted"], alert.detail["waiting"], alert.detail["min_size"]) == (0, 1, 2)


def test_open_seats_are_filled_before_new_groups(client, auth, db, group, make_member):
    for i in range(9):
        make_member(i, waitlisted_at=NOW - timedelta(days=30 - i))
    policy = {"first_session_date": "2027-01-12", "weeks": 8, "min_size": 6}
    r = client.post("/api/v1/group-proposals", json={"policy": policy}, headers=auth)
    assert r.status_code == 201, r.json
    [fill] = r.json["fills"]
    assert (fill["kind"], fill["group_id"], fill["size"], fill["seats_open"]) == ("existing", group.id, 3, 3)
    [new] = r.json["groups"]
    assert new["kind"] == "new" and new["size"] == 6 and r.json["stats"]["filled_seats"] == 3
    filled = set(fill["member_ids"])
    assert filled == {m.id for m in Member.query.order_by(Member.waitlisted_at).limit(3)}
    out = sorted(filled)[0]
    edit = {"op": "move_member", "member_id": out, "to_group": None}
    moved = client.patch(f"/api/v1/group-proposals/{r.json['id']}", json=edit, headers=auth)
    assert moved.status_code == 200 and moved.json["stats"]["filled_seats"] == 2
    assert out not in moved.json["fills"][0]["member_ids"] and moved.json["fills"][0]["size"] == 2
    assert client.post(f"/api/v1/group-proposals/{r.json['id']}/commit", headers=auth).status_code == 200
    assert {i.member_id for i in Invitation.query.filter_by(group_id=group.id)} == filled - {out}


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="two writers at once: PostgreSQL",
)
def test_two_yes_at_the_same_instant_one_wins(app, db, group, make_member):
    """Two connections answer for the last seat together: the group's row lock makes the second wait
    and count again, so exactly one is enrolled and the other is told the seat was taken."""
    a, b = two_offers_for_one_seat(db, group, make_member)
    start, replies = threading.Barrier(2), {}

    def answer(phone: str) -> None:
        with app.app_context():
            start.wait()
            replies[phone] = receive_sms(f"SM{phone}", phone, "YES", NOW)
            db.session.commit()

    threads = [threading.Thread(target=answer, args=(m.phone,)) for m in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.expire_all()
    assert sorted(r.split(",")[0] for r in replies.values()) == ["Sorry Member", "Thanks Member"]
    assert invitations.enrolled_count(group.id) == 3


def test_the_console_shows_a_groups_seats(client, db, group, make_member):
    a, b = make_member(0), make_member(1)
    invite(db, group, a)
    invite(db, group, b)
    sms(a, "yes")
    cora = Coordinator(name="Cora", phone="+12025550777", timezone="America/Chicago")
    db.session.add(cora)
    db.session.commit()
    sign_in(client, "coordinator", cora.id, "Cora")
    page = client.get(f"/app/console/groups/{group.id}/seats")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "1 of 3 seats taken, 1 offered and waiting for an answer, 1 open" in text
    assert f'data-member-id="{a.id}"' in text and "accepted" in text and "waiting" in text


def test_the_proposal_page_shows_open_seats_apart_from_new_groups(client, auth, db, group, make_member):
    filled = make_member(0)
    r = client.post(
        "/api/v1/group-proposals", json={"policy": {"first_session_date": "2027-01-12"}}, headers=auth
    )
    cora = Coordinator(name="Cora", phone="+12025550777", timezone="America/Chicago")
    db.session.add(cora)
    db.session.commit()
    sign_in(client, "coordinator", cora.id, "Cora")
    text = client.get(f"/app/console/proposals/{r.json['id']}").get_data(as_text=True)
    assert "0 new groups" in text and "1 open seats filled in existing groups" in text
    assert f'data-group-id="{group.id}"' in text and filled.name in text


def test_a_proposal_never_fills_a_seat_with_a_member_who_was_offered_that_group(
    client, auth, db, group, make_member
):
    declined = make_member(0, waitlisted_at=NOW - timedelta(days=30))
    invite(db, group, declined)
    sms(declined, "no")  # nobody else waits, so the seat stays open
    newer = make_member(1)
    r = client.post(
        "/api/v1/group-proposals", json={"policy": {"first_session_date": "2027-01-12"}}, headers=auth
    )
    assert r.status_code == 201, r.json
    [fill] = r.json["fills"]
    assert fill["member_ids"] == [newer.id]
    assert [u["member_id"] for u in r.json["unplaced"]] == [declined.id]


def test_the_alerts_board_shows_a_small_group_with_its_choices(client, db, group, make_member):
    invite(db, group, make_member(0))
    seats.flag_small_groups(FIRST - timedelta(days=6))
    cora = Coordinator(name="Cora", phone="+12025550777", timezone="America/Chicago")
    db.session.add(cora)
    db.session.commit()
    sign_in(client, "coordinator", cora.id, "Cora")
    text = client.get("/app/alerts").get_data(as_text=True)
    assert "Group below its minimum" in text and "0 accepted and 1 still deciding, of at least 2" in text
    assert "merge it with another group, postpone its start, or start smaller" in text


def test_a_member_who_was_invited_is_withdrawn_not_deleted(client, auth, db, group, make_member):
    member = make_member(0)
    invite(db, group, member)
    r = client.delete(f"/api/v1/members/{member.id}", headers=auth)
    assert r.status_code == 409 and "invited to a group" in str(r.json["errors"])
    assert db.session.get(Member, member.id) is not None


def test_an_answer_taken_by_phone_counts_as_the_text_would(client, auth, db, group, make_member):
    by_phone, declines, nxt = make_member(0, sms_consent=False), make_member(1), make_member(2)
    first, second = invite(db, group, by_phone), invite(db, group, declines)
    url = "/api/v1/invitations/{}/answer"
    assert client.post(url.format(first.id), json={}, headers=auth).status_code == 422
    r = client.post(url.format(first.id), json={"accept": True}, headers=auth)
    assert r.status_code == 200 and r.json["status"] == "accepted" and by_phone.status == "enrolled"
    assert (
        client.post(url.format(second.id), json={"accept": False}, headers=auth).json["status"] == "declined"
    )
    assert offer_to(nxt).replaces_id == second.id
    assert client.post(url.format(second.id), json={"accept": True}, headers=auth).status_code == 409


def test_a_group_not_yet_dated_takes_members_until_its_planned_start(db, group, make_member):
    member = make_member(0)
    invite(db, group, member)
    nxt = make_member(1)
    assert invitations.open_group(group, FIRST - timedelta(minutes=1)) is not None
    sms(member, "no", at=FIRST)  # the first session has begun and no cycle was dated
    assert offer_to(nxt) is None and invitations.open_group(group, FIRST) is None


def test_the_deadline_and_reminder_are_settings_and_the_reminder_goes_once(
    client, auth, db, group, make_member
):
    body = {"invitation_hours": 72, "invitation_reminder_hours": 24}
    assert client.put("/api/v1/settings/intake", json=body, headers=auth).status_code == 200
    bad = {"invitation_reminder_hours": 72}
    assert client.put("/api/v1/settings/intake", json=bad, headers=auth).status_code == 422
    member = make_member(0)
    invitation = invite(db, group, member, at=DAYTIME)
    assert invitation.deadline_at == DAYTIME + timedelta(hours=72)
    tick(DAYTIME)
    assert tick(DAYTIME + timedelta(hours=47)).sent == []
    [reminder] = tick(DAYTIME + timedelta(hours=48)).sent
    assert reminder.body.startswith("Hi Member, your place in the group (first meeting Tue 08 Dec at 18:00)")
    assert tick(DAYTIME + timedelta(hours=49)).sent == []
