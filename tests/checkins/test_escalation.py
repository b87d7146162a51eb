"""Every safety alert reaches a human and escalates until acknowledged, as data, under an injected
clock: who is told at once (group facilitator and on-call; for the waitlisted and strangers, on-call
and coordinators), re-notified every ESCALATE_AFTER_MINUTES, stopped by the ack, day and night; a
failing facilitator number escalates at once; nobody to text is an ERROR and shows on /healthz."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from flask import current_app

from ipt_groups.checkins.alerts import acknowledge, raise_safety_alert
from ipt_groups.checkins.inbox import record_delivery_status
from ipt_groups.extensions import db as _db
from ipt_groups.messaging.base import PermanentSendError, RecordingSender, RetryableSendError
from ipt_groups.messaging.outbox import MAX_ATTEMPTS, cancel_pending
from ipt_groups.models import Alert, Coordinator, Message
from ipt_groups.worker import tick
from tests.conftest import NOW
from tests.messaging.test_dispatch import _plan

ONCALL = "+12025550999"
FACILITATOR = "+12025550100"  # facilitator_data(0)
COORDINATOR = "+12025550701"
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # 03:00 in Chicago: inside everyone's quiet hours


@pytest.fixture(autouse=True)
def oncall(app, monkeypatch):
    monkeypatch.setitem(app.config, "ONCALL_PHONE", ONCALL)
    monkeypatch.setitem(app.config, "ESCALATE_AFTER_MINUTES", 30)


@pytest.fixture
def coordinators(db):
    """One coordinator to text, one inactive and one without a phone (neither texted)."""
    people = [
        Coordinator(name="Cora Active", phone=COORDINATOR, timezone="America/Chicago"),
        Coordinator(name="Ian Inactive", phone="+12025550702", timezone="America/Chicago", active=False),
        Coordinator(name="Nora Nophone", phone=None, timezone="America/Chicago"),
    ]
    db.session.add_all(people)
    db.session.commit()
    return people


@pytest.fixture
def member(started_group, make_member):
    m = make_member(0)
    started_group([m])
    return m


def _raise(member, now=T0, **kwargs) -> Alert:
    alert = raise_safety_alert(member, "crisis_words", {"phrase": "kms"}, now, **kwargs)
    _db.session.commit()
    return alert


def _tick(sender, now) -> list[str]:
    """One scheduler tick at `now`; the phones it texted, sorted."""
    before = len(sender.sent)
    assert tick(current_app._get_current_object(), sender, None, "w1", now=now) is not None
    return sorted(m.to for m in sender.sent[before:])


def _alert(alert_id) -> Alert:
    _db.session.expire_all()
    return _db.session.get(Alert, alert_id)


def test_the_timeline_until_the_ack_and_nothing_after(app, client, auth, member, coordinators, monkeypatch):
    sender = RecordingSender()
    alert = _raise(member)
    assert _tick(sender, T0) == sorted([FACILITATOR, ONCALL])  # at once, inside quiet hours
    assert _tick(sender, T0 + timedelta(minutes=29)) == []
    assert _tick(sender, T0 + timedelta(minutes=30)) == sorted([ONCALL, COORDINATOR])
    assert "NOT YET ACKNOWLEDGED after 30 min" in sender.sent[-1].body
    assert _tick(sender, T0 + timedelta(minutes=59)) == []
    assert _tick(sender, T0 + timedelta(minutes=60)) == sorted([ONCALL, COORDINATOR])
    assert "after 60 min (reminder 2)" in sender.sent[-1].body
    monkeypatch.setitem(app.config, "FIXED_NOW", T0 + timedelta(minutes=61))
    assert client.post(f"/api/v1/alerts/{alert.id}/ack", json={}, headers=auth).status_code == 200
    for minutes in (90, 120, 24 * 60):
        assert _tick(sender, T0 + timedelta(minutes=minutes)) == []
    assert len(sender.sent) == 6
    done = _alert(alert.id)
    assert (done.escalation_level, done.next_escalation_at) == (2, None)
    told = [(d["to"], d["level"], d["planned_at"], d["state"]) for d in done.deliveries]
    assert told == [
        ("facilitator", 0, T0.isoformat(), "sent"),
        ("oncall", 0, T0.isoformat(), "sent"),
        ("oncall", 1, (T0 + timedelta(minutes=30)).isoformat(), "sent"),
        ("coordinator", 1, (T0 + timedelta(minutes=30)).isoformat(), "sent"),
        ("oncall", 2, (T0 + timedelta(minutes=60)).isoformat(), "sent"),
        ("coordinator", 2, (T0 + timedelta(minutes=60)).isoformat(), "sent"),
    ]


def test_the_ack_cancels_texts_not_yet_sent(member, coordinators):
    alert = _raise(member)
    acknowledge(alert, None, "coordinator:test", T0 + timedelta(seconds=5))
    _db.session.commit()
    sender = RecordingSender()
    _tick(sender, T0 + timedelta(seconds=10))
    assert sender.attempts == []
    states = {(m.state, m.reason) for m in Message.query.filter_by(alert_id=alert.id)}
    assert states == {("cancelled", "the alert was acknowledged")}


def test_a_waitlisted_members_alert_reaches_on_call_and_coordinators_at_once(make_member, coordinators):
    waiting = make_member(3)  # in no group
    alert = _raise(waiting)
    sender = RecordingSender()
    assert _tick(sender, T0) == sorted([ONCALL, COORDINATOR])
    assert "no group (waitlist)" in sender.sent[0].body
    assert {d["to"] for d in _alert(alert.id).deliveries} == {"oncall", "coordinator"}


def test_a_strangers_alert_reaches_on_call_and_coordinators_with_the_number(coordinators):
    alert = _raise(None, from_phone="+13125559876")
    sender = RecordingSender()
    assert _tick(sender, T0) == sorted([ONCALL, COORDINATOR])
    assert all("+13125559876" in m.body and "not in the programme" in m.body for m in sender.sent)
    assert _tick(sender, T0 + timedelta(minutes=30)) == sorted([ONCALL, COORDINATOR])  # escalates too
    assert _alert(alert.id).escalation_level == 1


def test_nobody_to_text_is_an_error_on_the_alert_and_on_health(app, client, make_member, caplog, monkeypatch):
    monkeypatch.setitem(app.config, "ONCALL_PHONE", "")
    with caplog.at_level(logging.ERROR, logger="ipt_groups.checkins.escalation"):
        alert = _raise(make_member(4))
    assert any("nobody could be texted" in r.getMessage() for r in caplog.records)
    assert "nobody could be texted" in _alert(alert.id).detail["warning"]
    health = client.get("/healthz").json
    assert health["status"] == "attention" and health["safety"]["nobody_told"] == 1


def test_without_on_call_or_coordinators_the_facilitator_is_told_again(app, member, monkeypatch):
    monkeypatch.setitem(app.config, "ONCALL_PHONE", "")
    _raise(member)
    sender = RecordingSender()
    assert _tick(sender, T0) == [FACILITATOR]
    assert _tick(sender, T0 + timedelta(minutes=30)) == [FACILITATOR]


def test_one_text_per_phone_when_on_call_is_a_coordinators_own(app, member, coordinators, monkeypatch):
    monkeypatch.setitem(app.config, "ONCALL_PHONE", COORDINATOR)
    _raise(member)
    sender = RecordingSender()
    _tick(sender, T0)
    assert _tick(sender, T0 + timedelta(minutes=30)) == [COORDINATOR]


def test_a_failing_facilitator_number_alerts_the_operator_and_escalates_at_once(
    client, member, coordinators, caplog
):
    sender = RecordingSender()
    sender.fail_always(FACILITATOR, PermanentSendError(21211, "invalid 'To'", "invalid_number"))
    alert = _raise(member)
    with caplog.at_level(logging.ERROR, logger="ipt_groups.messaging.refusals"):
        sent = _tick(sender, T0)
    assert sent == sorted([ONCALL, ONCALL, COORDINATOR])  # level 0 on-call, then level 1 in the same tick
    assert any("failed permanently" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)
    operator = Alert.query.filter_by(kind="operator").one()
    assert operator.detail["alert_id"] == alert.id and operator.detail["to"] == "facilitator"
    escalated = _alert(alert.id)
    assert escalated.escalation_level == 1
    assert (
        "facilitator's number failed permanently (21211): escalated at once"
        in escalated.detail["escalated_at_once"]
    )
    assert escalated.next_escalation_at == T0 + timedelta(minutes=30)
    failed = [d for d in escalated.deliveries if d["state"] == "failed"]
    assert [(d["to"], d["delivered"]) for d in failed] == [("facilitator", False)]
    assert client.get("/healthz").json["safety"]["undelivered"] == 1


def test_a_failure_of_a_later_round_does_not_escalate_again_at_once(member, coordinators):
    sender = RecordingSender()
    alert = _raise(member)
    _tick(sender, T0)
    sender.fail_always(COORDINATOR, PermanentSendError(21211, "invalid 'To'", "invalid_number"))
    _tick(sender, T0 + timedelta(minutes=30))
    escalated = _alert(alert.id)
    assert escalated.escalation_level == 1  # no loop of rounds against a dead number
    assert escalated.next_escalation_at == T0 + timedelta(minutes=60)


def test_a_safety_text_is_retried_until_accepted_with_no_attempt_cap(app, client, member, monkeypatch):
    sender = RecordingSender()
    sender.fail_always(ONCALL, RetryableSendError(503, "service unavailable"))
    alert = _raise(member)
    now = T0
    for _ in range(MAX_ATTEMPTS + 3):
        _tick(sender, now)
        now = _oncall_text(alert).due_at
    oncall = _oncall_text(alert)
    assert oncall.state == "pending" and oncall.attempts == MAX_ATTEMPTS + 3
    monkeypatch.setitem(app.config, "FIXED_NOW", now)
    assert now - T0 > timedelta(minutes=5)
    assert client.get("/healthz").json["safety"]["retrying"] == 1  # planned more than 5 minutes ago
    del sender._by_number[ONCALL]
    _tick(sender, now)
    assert _oncall_text(alert).state == "sent"
    assert client.get("/healthz").json["status"] == "ok"


def _oncall_text(alert) -> Message:
    _db.session.expire_all()
    return Message.query.filter_by(alert_id=alert.id, to_phone=ONCALL).one()


def test_a_carrier_undelivered_report_shows_on_the_alert_and_on_health(client, member):
    alert = _raise(member)
    _tick(RecordingSender(), T0)
    facilitator_text = Message.query.filter(
        Message.alert_id == alert.id, Message.facilitator_id.is_not(None)
    ).one()
    record_delivery_status(facilitator_text.provider_id, "undelivered", "30003", T0)
    _db.session.commit()
    told = {d["to"]: d for d in _alert(alert.id).deliveries}
    assert told["facilitator"]["delivered"] is False and told["oncall"]["delivered"] is None
    assert client.get("/healthz").json["safety"] == {"undelivered": 1, "retrying": 0, "nobody_told": 0}


def test_a_carrier_undelivered_report_of_a_later_round_alerts_the_operator_only(member, coordinators):
    alert = _raise(member)
    _tick(RecordingSender(), T0)
    _tick(RecordingSender(), T0 + timedelta(minutes=30))
    later = Message.query.filter_by(alert_id=alert.id, coordinator_id=coordinators[0].id).one()
    assert record_delivery_status(later.provider_id, "failed", "30005", T0 + timedelta(minutes=31))
    _db.session.commit()
    assert Alert.query.filter_by(kind="operator").one().detail["to"] == "coordinator"
    assert _alert(alert.id).next_escalation_at == T0 + timedelta(minutes=60)  # no loop on a dead number


def test_a_carrier_undelivered_report_of_a_reminder_raises_no_operator_alert(member):
    noon_chicago = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
    _plan(member, 1, due=noon_chicago)
    _tick(RecordingSender(), noon_chicago)
    text = Message.query.filter_by(kind="custom").one()
    assert record_delivery_status(text.provider_id, "undelivered", "30003", noon_chicago)
    _db.session.commit()
    assert Alert.query.filter_by(kind="operator").count() == 0


def test_cancelling_a_groups_messages_never_drops_a_safety_text(member):
    alert = _raise(member)
    cancel_pending(Message.group_id == alert.group_id, reason="the group was cancelled")
    _db.session.commit()
    assert {m.state for m in Message.query.filter_by(kind="safety_alert")} == {"pending"}


def test_escalation_uses_the_configured_interval(app, member, monkeypatch):
    monkeypatch.setitem(app.config, "ESCALATE_AFTER_MINUTES", 10)
    alert = _raise(member, now=NOW)
    assert _alert(alert.id).next_escalation_at == NOW + timedelta(minutes=10)


def test_an_escalation_goes_out_before_a_backlog_of_reminders(member, coordinators):
    noon_chicago = datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
    _raise(member, now=noon_chicago)
    sender = RecordingSender()
    _tick(sender, noon_chicago)
    later = noon_chicago + timedelta(minutes=30)
    _plan(member, 20, due=later - timedelta(minutes=1))  # due before the escalation, outside quiet hours
    before = len(sender.sent)
    _tick(sender, later)
    assert len(sender.sent) == before + 22
    assert sorted(m.to for m in sender.sent[before : before + 2]) == sorted([ONCALL, COORDINATOR])


def test_a_coordinator_made_inactive_before_the_send_is_not_texted(member, coordinators):
    _raise(member)
    sender = RecordingSender()
    _tick(sender, T0)
    later = T0 + timedelta(minutes=30)
    from ipt_groups.checkins.escalation import escalate_due

    escalate_due(later)
    _db.session.get(Coordinator, coordinators[0].id).active = False
    _db.session.commit()
    assert _tick(sender, later) == [ONCALL]
    held = Message.query.filter_by(coordinator_id=coordinators[0].id).one()
    assert (held.state, held.reason) == ("suppressed", "the coordinator is no longer active")
