"""Screening at intake: the PHQ-9 by SMS through the check-in conversation, in the member's language,
or by phone; eligible at the programme's threshold (10 by default: 9 is not, 10 is); item 9 above 0
marks "needs a human" and raises the safety alert; a coordinator's override needs a reason and is
audited; formation takes only eligible members once screening is required, and never one who needs a
human or was found not eligible."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from ipt_groups.checkins import screening
from ipt_groups.checkins.inbox import receive_sms
from ipt_groups.checkins.sending import KINDS
from ipt_groups.extensions import db as _db
from ipt_groups.formation.waitlist import waitlist_query
from ipt_groups.messaging.base import RecordingSender
from ipt_groups.messaging.dispatch import DispatchSettings, run_tick
from ipt_groups.messaging.timing import QuietHours
from ipt_groups.models import AccessEntry, Alert, AuditEntry, Message, Screening
from ipt_groups.worker import ON_TICK
from tests.conftest import NOW

DAYTIME = NOW + timedelta(hours=3)  # 09:00 in Chicago
URL = "/api/v1/members/{}/screenings"
_sid = iter(range(1, 10**6))


def tick(at):
    sender = RecordingSender()
    settings = DispatchSettings(
        kinds=KINDS, on_tick=ON_TICK, worker="t", batch=100, quiet=QuietHours(), programme="Wellbeing"
    )
    run_tick(sender, at, settings)
    return [m.body for m in sender.sent]


def sms(member, body, at=DAYTIME):
    reply = receive_sms(f"SM{next(_sid):032d}", member.phone, body, at)
    _db.session.commit()
    return reply


def answers_totalling(total: int, item9: int = 0) -> list[int]:
    """Nine answers (0-3) with this total and this item 9."""
    rest, answers = total - item9, []
    for _ in range(8):
        answers.append(min(3, rest))
        rest -= answers[-1]
    return [*answers, item9]


def screen_by_sms(client, auth, member, answers: list[int]) -> list[str]:
    assert client.post(URL.format(member.id), json={"method": "sms"}, headers=auth).status_code == 201
    [opening] = tick(DAYTIME)
    assert " OK " in opening
    sms(member, "OK")
    for answer in answers:
        sms(member, str(answer))
    return tick(DAYTIME + timedelta(minutes=1))


@pytest.mark.parametrize(
    ("total", "eligibility", "text"),
    [
        (9, "not_eligible", "A group is not the right fit for you right now."),
        (10, "eligible", "You can join a group: we will text you when a place is ready."),
    ],
)
def test_an_sms_screen_decides_at_the_threshold(client, auth, make_member, total, eligibility, text):
    member = make_member(0)
    sent = screen_by_sms(client, auth, member, answers_totalling(total))
    [decided] = _db.session.scalars(select(Screening).filter_by(member_id=member.id)).all()
    assert (decided.method, decided.score, decided.threshold, decided.outcome) == (
        "sms",
        total,
        10,
        eligibility,
    )
    assert member.eligibility == eligibility and not member.needs_human
    assert len(sent) == 1 and text in sent[0]


def test_a_spanish_member_is_screened_in_spanish(client, auth, make_member):
    rosa = make_member(0, name="Rosa Díaz", language="es")
    assert client.post(URL.format(rosa.id), json={"method": "sms"}, headers=auth).status_code == 201
    [opening] = tick(DAYTIME)
    assert "Hola" in opening
    assert "Poco interés o placer en hacer cosas" in sms(rosa, "OK")
    for answer in answers_totalling(14):
        sms(rosa, str(answer))
    [told] = tick(DAYTIME + timedelta(minutes=1))
    assert rosa.eligibility == "eligible" and told.startswith("Gracias, Rosa. Puede unirse a un grupo")


def test_item_9_above_0_needs_a_human_raises_the_alert_and_keeps_them_out_of_formation(
    client, auth, make_member
):
    member = make_member(0)
    sent = screen_by_sms(client, auth, member, answers_totalling(15, item9=1))
    decided = _db.session.scalar(select(Screening).filter_by(member_id=member.id))
    assert (decided.outcome, decided.item9, decided.needs_human) == ("eligible", 1, True)
    assert member.needs_human is True
    alert = _db.session.scalar(select(Alert).filter_by(member_id=member.id, kind="safety"))
    assert alert is not None and alert.detail["source"] == "phq9_item9"
    assert not any("You can join" in body for body in sent)  # a person calls first
    assert member not in _db.session.scalars(waitlist_query("any")).all()


def test_a_phone_screen_is_ruled_the_same_and_item_9_alerts(client, auth, make_member):
    nine, ten, item9 = make_member(0), make_member(1), make_member(2)
    for member, answers in (
        (nine, answers_totalling(9)),
        (ten, answers_totalling(10)),
        (item9, answers_totalling(12, 2)),
    ):
        r = client.post(URL.format(member.id), json={"method": "phone", "answers": answers}, headers=auth)
        assert r.status_code == 201, r.json
    assert (nine.eligibility, ten.eligibility, item9.eligibility) == ("not_eligible", "eligible", "eligible")
    assert item9.needs_human and not ten.needs_human
    alert = _db.session.scalar(select(Alert).filter_by(member_id=item9.id, kind="safety"))
    assert alert.detail["source"] == "screening_item9"
    assert _db.session.scalar(select(Message.id).filter_by(member_id=ten.id)) is None  # told by phone


def test_the_threshold_is_a_setting(client, auth, make_member):
    assert (
        client.put("/api/v1/settings/intake", json={"eligibility_threshold": 15}, headers=auth).status_code
        == 200
    )
    member = make_member(0)
    client.post(
        URL.format(member.id), json={"method": "phone", "answers": answers_totalling(14)}, headers=auth
    )
    assert member.eligibility == "not_eligible"


def test_an_override_needs_a_reason_and_is_audited(client, auth, make_member):
    member = make_member(0)
    client.post(
        URL.format(member.id), json={"method": "phone", "answers": answers_totalling(16, 1)}, headers=auth
    )
    missing = client.post(URL.format(member.id), json={"method": "override", "eligible": True}, headers=auth)
    assert missing.status_code == 422 and "reason" in missing.json["errors"]["json"]
    body = {
        "method": "override",
        "eligible": True,
        "reason": "supervisor called: safe to join, plan in place",
    }
    r = client.post(URL.format(member.id), json=body, headers=auth)
    assert r.status_code == 201 and r.json["outcome"] == "eligible"
    assert member.eligibility == "eligible" and member.needs_human is False
    entry = _db.session.scalar(select(AuditEntry).filter_by(action="screening.override"))
    assert entry.after["reason"] == body["reason"] and entry.before["needs_human"] is True
    down = {"method": "override", "eligible": False, "reason": "moved away"}
    assert client.post(URL.format(member.id), json=down, headers=auth).json["outcome"] == "not_eligible"
    listed = client.get(URL.format(member.id), headers=auth).json
    assert [s["method"] for s in listed] == ["override", "override", "phone"]
    assert _db.session.scalar(select(AccessEntry).filter_by(member_id=member.id, what="scores")) is not None


def test_no_sms_screen_without_consent(client, auth, make_member):
    member = make_member(0, sms_consent=False)
    r = client.post(URL.format(member.id), json={"method": "sms"}, headers=auth)
    assert r.status_code == 409 and "method" in r.json["errors"]["json"]
    assert _db.session.scalar(select(Screening.id)) is None


def test_a_screen_whose_check_in_expires_is_incomplete(client, auth, make_member):
    member = make_member(0)
    client.post(URL.format(member.id), json={"method": "sms"}, headers=auth)
    tick(DAYTIME)
    sms(member, "OK")
    sms(member, "2")
    tick(DAYTIME + timedelta(hours=49))
    decided = _db.session.scalar(select(Screening).filter_by(member_id=member.id))
    assert decided.outcome == "incomplete" and member.eligibility is None


def test_formation_takes_only_eligible_members_once_screening_is_required(client, auth, make_member):
    eligible, unscreened, below = make_member(0), make_member(1), make_member(2)
    client.post(
        URL.format(eligible.id), json={"method": "phone", "answers": answers_totalling(12)}, headers=auth
    )
    client.post(URL.format(below.id), json={"method": "phone", "answers": answers_totalling(4)}, headers=auth)
    # by default, members never screened here (a programme that screened before) are formed as before
    assert set(_db.session.scalars(waitlist_query("eligible_or_unscreened"))) == {eligible, unscreened}
    assert set(_db.session.scalars(waitlist_query("eligible"))) == {eligible}
    assert set(_db.session.scalars(waitlist_query("any"))) == {eligible, unscreened, below}
    client.put("/api/v1/settings/intake", json={"screening_required": True}, headers=auth)
    policy = {"first_session_date": "2027-01-12", "min_size": 2, "max_size": 10}
    make_facilitator_for(client, auth)
    r = client.post("/api/v1/group-proposals", json={"policy": policy}, headers=auth)
    assert r.status_code == 201 and r.json["groups"] == []  # one member cannot make a group of two
    assert [u["member_id"] for u in r.json["unplaced"]] == [eligible.id]
    told = {"policy": policy, "member_filter": {"screening": "eligible_or_unscreened"}}
    r = client.post("/api/v1/group-proposals", json=told, headers=auth)
    assert r.status_code == 201 and sorted(r.json["groups"][0]["member_ids"]) == [eligible.id, unscreened.id]


def make_facilitator_for(client, auth):
    from tests.conftest import facilitator_data

    assert client.post("/api/v1/facilitators", json=facilitator_data(0), headers=auth).status_code == 201


def test_the_referral_line_follows_the_not_eligible_text_in_the_members_language(client, auth, make_member):
    lines = {"es": "Para otro apoyo, llame al 211.", "en": "For other support, call 211."}
    client.put("/api/v1/settings/intake", json={"referral_line": lines}, headers=auth)
    rosa = make_member(0, name="Rosa Díaz", language="es")
    sent = screen_by_sms(client, auth, rosa, answers_totalling(3))
    assert sent[-1] == "Para otro apoyo, llame al 211." and "no es lo más adecuado" in sent[0]


@pytest.mark.parametrize(
    ("total", "outcome"), [(0, "not_eligible"), (9, "not_eligible"), (10, "eligible"), (27, "eligible")]
)
def test_the_rule_is_ten_or_more_by_default(total, outcome):
    assert screening.outcome_for(total, 10) == outcome


def test_stop_before_the_screen_is_sent_leaves_it_incomplete(client, auth, make_member):
    member = make_member(0)
    client.post(URL.format(member.id), json={"method": "sms"}, headers=auth)
    sms(member, "STOP", at=NOW)  # quiet hours held the screen; STOP cancels it
    assert tick(DAYTIME) == []
    decided = _db.session.scalar(select(Screening).filter_by(member_id=member.id))
    assert decided.outcome == "incomplete" and member.eligibility is None
