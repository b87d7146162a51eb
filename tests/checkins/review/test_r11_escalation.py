"""Review of issue 11, from outside: the escalation ladder when the facilitator's phone is dead at
3 a.m. (the carrier, not Twilio's API, says so), and when one number sends crisis texts by the dozen.
Each case was a finding (a strict xfail until its fix)."""

import logging
from datetime import timedelta

import pytest
from flask import current_app

from ipt_groups.messaging.base import RecordingSender
from ipt_groups.messaging.twilio import compute_twilio_signature
from ipt_groups.models import Alert, Coordinator, Message
from ipt_groups.worker import tick
from tests.checkins.test_webhooks import TOKEN, sms, twilio_config  # noqa: F401 (twilio_config: autouse fixture)
from tests.conftest import NOW
from tests.cross_cutting.test_ratelimits import default_limit, limits  # noqa: F401 (fixtures: the shipped webhook limit)

ONCALL = "+12025550999"  # twilio_config's
COORDINATOR = "+12025550701"
STRANGER = "+13125559999"


@pytest.fixture
def coordinator(db):
    db.session.add(Coordinator(name="Cora", phone=COORDINATOR, timezone="America/Chicago"))
    db.session.commit()


def _tick(sender, now) -> list[str]:
    before = len(sender.sent)
    tick(current_app._get_current_object(), sender, None, "w1", now=now)
    return sorted(m.to for m in sender.sent[before:])


def _status(client, sid, status, error_code):
    params = {"MessageSid": sid, "MessageStatus": status, "ErrorCode": error_code}
    signature = compute_twilio_signature(TOKEN, "http://localhost/twilio/status", params)
    return client.post("/twilio/status", data=params, headers={"X-Twilio-Signature": signature})


def test_a_dead_facilitator_phone_reported_by_the_carrier_escalates_at_once(
    client, member, coordinator, caplog
):
    sms(client, "I want to kill myself")
    sender = RecordingSender()
    assert ONCALL in _tick(sender, NOW)
    to_facilitator = Message.query.filter(Message.facilitator_id.is_not(None), Message.alert_id.is_not(None))
    with caplog.at_level(logging.ERROR):
        assert _status(client, to_facilitator.one().provider_id, "undelivered", "30005").status_code == 204
    assert any(r.levelname == "ERROR" and "failed permanently" in r.getMessage() for r in caplog.records)
    assert COORDINATOR in _tick(sender, NOW + timedelta(minutes=1))
    assert Alert.query.filter_by(kind="operator").count() == 1
    # a repeated callback changes nothing more
    assert _status(client, to_facilitator.one().provider_id, "undelivered", "30005").status_code == 204
    assert Alert.query.filter_by(kind="operator").count() == 1


@pytest.mark.parametrize("sender", ["+13125551000", STRANGER])  # the member of `member`, and a stranger
@pytest.mark.usefixtures("default_limit")
def test_forty_crisis_texts_in_a_minute_page_on_call_once(client, member, sender):
    for _ in range(40):
        sms(client, "kms", sender=sender)
    assert Message.query.filter_by(kind="safety_alert", to_phone=ONCALL).count() == 1
