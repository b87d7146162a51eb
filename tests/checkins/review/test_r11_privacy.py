"""Review of issue 11, from outside: phone numbers where the rules say they must not be. Twilio's own
error messages name the number ("The 'To' number +1... is not a valid phone number."), and the safety
path logs and shows them as they come. Each case was a finding (a strict xfail until its fix)."""

import logging

from flask import current_app

from ipt_groups.checkins.alerts import raise_safety_alert
from ipt_groups.extensions import db as _db
from ipt_groups.messaging.base import PermanentSendError, RecordingSender
from ipt_groups.worker import tick
from tests.conftest import NOW

ONCALL = "+12025550999"
FACILITATOR = "+12025550100"  # facilitator_data(0)


def _refusal(phone: str) -> PermanentSendError:
    return PermanentSendError(
        21211, f"The 'To' number {phone} is not a valid phone number.", "invalid_number"
    )


def _alert_and_tick(member, sender):
    alert = raise_safety_alert(member, "crisis_words", {"phrase": "kms"}, NOW)
    _db.session.commit()
    tick(current_app._get_current_object(), sender, None, "w1", now=NOW)
    return alert.id


def test_a_refused_safety_text_logs_no_full_phone(app, member, caplog, monkeypatch):
    monkeypatch.setitem(app.config, "ONCALL_PHONE", ONCALL)
    sender = RecordingSender()
    sender.fail_always(FACILITATOR, _refusal(FACILITATOR))
    with caplog.at_level(logging.INFO):
        _alert_and_tick(member, sender)
    assert "failed permanently" in caplog.text
    assert FACILITATOR not in caplog.text


def test_a_facilitator_reading_an_alert_sees_no_other_phone_than_the_members(
    app, client, member, facilitator_auth, monkeypatch
):
    monkeypatch.setitem(app.config, "ONCALL_PHONE", ONCALL)
    sender = RecordingSender()
    sender.fail_always(ONCALL, _refusal(ONCALL))
    alert_id = _alert_and_tick(member, sender)
    r = client.get(f"/api/v1/alerts/{alert_id}", headers=facilitator_auth(member_facilitator(member)))
    assert r.status_code == 200 and r.json["phone"] == member.phone
    assert ONCALL not in r.get_data(as_text=True)


def member_facilitator(member) -> int:
    return member.current_enrolment.group.facilitator_id
