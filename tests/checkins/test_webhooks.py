"""Twilio webhooks signed as Twilio signs them: keywords, RSVPs, check-ins, safety, replays,
delivery status; an unsigned request is refused and stores nothing."""

from datetime import UTC, datetime, timedelta

import pytest

from ipt_groups.checkins.conversations import expire_checkins
from ipt_groups.checkins.inbox import receive_sms
from ipt_groups.checkins.sending import KINDS, ON_TICK
from ipt_groups.extensions import db as _db
from ipt_groups.messaging.base import RecordingSender, SentMessage
from ipt_groups.messaging.dispatch import DispatchSettings, run_tick
from ipt_groups.messaging.outbox import plan_messages
from ipt_groups.messaging.timing import QuietHours
from ipt_groups.messaging.twilio import compute_twilio_signature
from ipt_groups.models import (
    Alert,
    AttendanceRecord,
    Checkin,
    Group,
    GroupSession,
    InboundMessage,
    Member,
    Message,
    Rsvp,
)
from tests.conftest import NOW, count

TOKEN = "test-auth-token"
NOON_CHICAGO = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
URL = "http://localhost/twilio/sms"


@pytest.fixture(autouse=True)
def twilio_config(app, monkeypatch):
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setitem(app.config, "ONCALL_PHONE", "+12025550999")


_sid = iter(range(1, 10**6))


def sms(client, body, sender="+13125551000", sid=None, signature=None, url=URL):
    params = {"MessageSid": sid or f"SM{next(_sid):032d}", "From": sender, "To": "+12025550100", "Body": body}
    sig = compute_twilio_signature(TOKEN, url, params) if signature is None else signature
    return client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": sig})


def reply(response) -> str:
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and text.startswith("<?xml")
    return text


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl"])
def test_unsigned_or_badly_signed_is_refused_and_nothing_stored(client, member, signature):
    r = sms(client, "STOP", signature=signature)
    assert r.status_code == 403
    assert count(InboundMessage) == 0 and _db.session.get(Member, member.id).opted_out_at is None


def test_signature_over_another_url_is_refused(client, member):
    r = sms(client, "HELP", signature=compute_twilio_signature(TOKEN, "http://evil.example/twilio/sms", {}))
    assert r.status_code == 403


def test_a_stale_public_base_url_alerts_again_after_its_alert_is_acknowledged(
    app, client, member, auth, monkeypatch
):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://old.example.org")
    sms(client, "HELP")
    first = Alert.query.filter_by(kind="operator").one()
    assert client.post(f"/api/v1/alerts/{first.id}/ack", headers=auth).status_code == 200
    assert client.get("/healthz").json["status"] == "ok"
    sms(client, "HELP")
    assert Alert.query.filter_by(kind="operator").count() == 2
    assert client.get("/healthz").json["webhooks"] == {"signed_for_another_url": 1}


def test_without_public_base_url_the_request_url_is_what_is_signed_and_nothing_is_raised(client, member):
    assert sms(client, "HELP").status_code == 200 and count(Alert) == 0


def test_public_base_url_is_what_is_signed(app, client, member, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://groups.example.org")
    assert sms(client, "HELP", url="https://groups.example.org/twilio/sms").status_code == 200
    assert count(Alert) == 0
    # Signed for the URL the request came to (PUBLIC_BASE_URL is stale): accepted, and an operator alert
    assert sms(client, "HELP").status_code == 200
    assert Alert.query.filter_by(kind="operator").one().detail["signed_for"] == URL
    assert sms(client, "HELP", url="https://localhost/twilio/sms").status_code == 200  # a TLS proxy
    assert sms(client, "HELP", url="http://evil.example/twilio/sms").status_code == 403  # anything else
    assert count(Alert) == 1


@pytest.mark.parametrize("word", ["STOP", "stop", "Stopall.", "UNSUBSCRIBE", "cancel", "END", " quit "])
def test_stop_words_opt_out_and_cancel_everything(client, member, word):
    pending = Message.query.filter_by(member_id=member.id, state="pending").count()
    assert pending > 0
    r = sms(client, word)
    assert "<Message>" not in reply(r)
    m = _db.session.get(Member, member.id)
    assert m.opted_out_at == NOW and m.sms_consent is False and m.sms_consent_source.startswith("SMS")
    assert Message.query.filter_by(member_id=member.id, state="pending").count() == 0
    assert Message.query.filter_by(member_id=member.id, state="cancelled").count() == pending


def test_start_opts_back_in_and_help_answers(client, member):
    sms(client, "STOP")
    assert "again" in reply(sms(client, "start"))
    m = _db.session.get(Member, member.id)
    assert m.opted_out_at is None and m.sms_consent and m.sms_consent_source == "SMS START"
    assert "STOP" in reply(sms(client, "HELP"))


def test_unknown_sender_gets_one_neutral_reply(client, member):
    first = reply(sms(client, "hello?", sender="+13125559999"))
    second = reply(sms(client, "hello again", sender="+13125559999"))
    assert "don't recognise" in first and "<Message>" not in second
    assert {i.member_id for i in InboundMessage.query} == {None} and count(InboundMessage) == 2


def test_replayed_message_sid_is_handled_once(client, member):
    first = reply(sms(client, "X", sid="SMreplay"))
    again = reply(sms(client, "X", sid="SMreplay"))
    assert first == again and count(InboundMessage) == 1
    assert Message.query.filter_by(kind="rsvp_notice").count() == 1


def test_x_records_an_excused_absence_and_tells_the_facilitator(client, member):
    assert "told your facilitator" in reply(sms(client, "x"))
    rsvp = Rsvp.query.one()
    assert rsvp.response == "decline" and _db.session.get(GroupSession, rsvp.session_id).number == 1
    record = AttendanceRecord.query.one()
    assert (record.status, record.source) == ("excused", "sms")
    notice = Message.query.filter_by(kind="rsvp_notice").one()
    assert notice.facilitator_id is not None and "can't come" in notice.context["body"]
    assert "see you" in reply(sms(client, "C"))
    assert Rsvp.query.one().response == "confirm" and count(AttendanceRecord) == 0


def _send_checkin(member, instrument="phq9", at=NOON_CHICAGO, sender=None, begin=True):
    """Send the member a check-in (its invitation); with `begin`, the member answers it ("OK"), so
    item 1 is the last text they got."""
    plan_messages(
        [
            {
                "dedupe_key": f"test-checkin-{instrument}-{at}",
                "kind": "checkin",
                "member_id": member.id,
                "due_at": at,
                "context": {"instrument": instrument, "occasion": "test"},
            }
        ]
    )
    _db.session.commit()
    sender = sender or RecordingSender()
    run_tick(
        sender,
        at,
        DispatchSettings(
            kinds=KINDS, on_tick=ON_TICK, worker="t", batch=50, quiet=QuietHours(), programme="P"
        ),
    )
    if begin:
        first_item = receive_sms(f"SMbegin{next(_sid)}", member.phone, "OK", at)  # a webhook's reply
        sender.sent.append(SentMessage(member.phone, first_item, None))
        _db.session.commit()
    return sender


def test_checkin_is_answered_item_by_item_and_scored(client, member):
    sender = _send_checkin(member)
    invitation, item_1 = sender.bodies
    assert "Reply OK" in invitation and "Reply 0, 1, 2 or 3" not in invitation
    assert "Reply 0, 1, 2 or 3" in item_1 and "Little interest or pleasure" in item_1
    for answer in ["1", "two", "2 more than half the days", "3", "0", "1", "1", "0"]:
        assert "<Message>" in reply(sms(client, answer))
    assert "Thank you" in reply(sms(client, "not at all"))
    checkin = Checkin.query.one()
    assert (checkin.status, checkin.score, checkin.band, checkin.complete) == (
        "complete",
        10,
        "moderate",
        True,
    )
    assert count(Alert) == 0


def test_item_9_above_zero_alerts_facilitator_and_on_call(client, member):
    _send_checkin(member)
    for answer in ["0"] * 8 + ["2"]:
        sms(client, answer)
    alert = Alert.query.filter_by(kind="safety").one()
    assert alert.detail["source"] == "phq9_item9" and alert.detail["value"] == 2
    told = Message.query.filter_by(kind="safety_alert").all()
    assert {("facilitator" if m.facilitator_id else m.to_phone) for m in told} == {
        "facilitator",
        "+12025550999",
    }
    assert {n["to"] for n in alert.notified} == {"facilitator", "oncall"}


def test_words_of_crisis_alert_and_answer_with_the_crisis_line(client, member):
    text = reply(sms(client, "I don't think I can go on, I want to END MY LIFE"))
    assert "988" in text
    alert = Alert.query.filter_by(kind="safety").one()
    assert alert.detail["source"] == "crisis_words" and alert.detail["phrase"] == "end my life"


def test_rsvp_is_routed_while_a_checkin_is_open(client, member):
    _send_checkin(member, "phq2")
    sms(client, "1")
    assert "told your facilitator" in reply(sms(client, "X"))
    checkin = Checkin.query.one()
    assert checkin.answers == [1] and checkin.status == "open"


def test_stop_wins_over_an_open_checkin(client, member):
    _send_checkin(member, "phq2")
    sms(client, "stop")
    assert Checkin.query.one().status == "cancelled"


def test_unreadable_answer_is_reprompted_once_then_skipped(client, member):
    _send_checkin(member, "phq2")
    assert "Reply 0, 1, 2 or 3" in reply(sms(client, "maybe"))
    assert "Skipped" in reply(sms(client, "dunno"))
    assert Checkin.query.one().answers == [None]


def test_expired_checkin_keeps_partial_answers_marked_incomplete(client, member):
    _send_checkin(member, "phq9")
    sms(client, "2")
    sms(client, "1")
    assert expire_checkins(NOON_CHICAGO + timedelta(hours=47)) == 0
    assert expire_checkins(NOON_CHICAGO + timedelta(hours=48)) == 1
    checkin = Checkin.query.one()
    assert (checkin.status, checkin.answers, checkin.complete, checkin.score) == ("expired", [2, 1], False, 3)


def test_delivery_status_never_moves_backwards(client, member):
    _send_checkin(member, "phq2")
    message = Message.query.filter_by(kind="checkin", state="sent").first()
    message.provider_id = "SMstatus1"
    _db.session.commit()

    def status(value):
        params = {"MessageSid": "SMstatus1", "MessageStatus": value}
        sig = compute_twilio_signature(TOKEN, "http://localhost/twilio/status", params)
        return client.post("/twilio/status", data=params, headers={"X-Twilio-Signature": sig})

    for value in ["delivered", "sent", "queued"]:
        assert status(value).status_code == 204
    assert _db.session.get(Message, message.id).delivery_status == "delivered"
    assert (
        client.post("/twilio/status", data={"MessageSid": "SMstatus1", "MessageStatus": "failed"}).status_code
        == 403
    )


def test_alerts_are_listed_until_acknowledged(client, member, auth, facilitator_auth, make_facilitator):
    sms(client, "I want to kill myself")
    alert = Alert.query.one()
    assert [a["id"] for a in client.get("/api/v1/alerts", headers=auth).json] == [alert.id]
    other = facilitator_auth(make_facilitator(5).id)
    assert client.get("/api/v1/alerts", headers=other).json == []
    assert client.post(f"/api/v1/alerts/{alert.id}/ack", json={}, headers=other).status_code == 403
    r = client.post(f"/api/v1/alerts/{alert.id}/ack", json={"note": "called, safe"}, headers=auth)
    assert r.status_code == 200 and r.json["acknowledged_by"].startswith("coordinator:")
    assert client.get("/api/v1/alerts", headers=auth).json == []
    assert client.post(f"/api/v1/alerts/{alert.id}/ack", json={}, headers=auth).status_code == 409


def test_scores_trajectory(client, member, auth):
    sender = RecordingSender()
    for i, answers in enumerate([["3"] * 8 + ["0"], ["1"] * 8 + ["0"]]):
        _send_checkin(member, at=NOON_CHICAGO + timedelta(days=i), sender=sender)
        for a in answers:
            sms(client, a)
    r = client.get(f"/api/v1/members/{member.id}/scores", headers=auth)
    assert (r.json["phq9_baseline"], r.json["phq9_latest"]) == (24, 8)
    assert r.json["response"]["drop"] == 16 and r.json["response"]["drop_50_percent"] is True
    assert len(client.get(f"/api/v1/checkins?member_id={member.id}", headers=auth).json) == 2


def test_the_groups_facilitator_can_acknowledge(client, member, facilitator_auth):
    sms(client, "I feel suicidal")
    alert = Alert.query.one()
    own = facilitator_auth(_db.session.get(Group, alert.group_id).facilitator_id)
    assert [a["id"] for a in client.get("/api/v1/alerts", headers=own).json] == [alert.id]
    r = client.post(f"/api/v1/alerts/{alert.id}/ack", json={}, headers=own)
    assert r.status_code == 200 and r.json["acknowledged_by"].startswith("facilitator:")
