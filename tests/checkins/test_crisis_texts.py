"""A sender's crisis texts: split over several texts ("I want to", "die"), read joined with the
sender's texts of the last 5 minutes, never twice for a phrase already alerted on, never across
senders or beyond the window; many in a row join the sender's open alert, whose people are texted
again with a count at most every 5 minutes."""

from datetime import timedelta

from ipt_groups.checkins.alerts import acknowledge
from ipt_groups.extensions import db as _db
from ipt_groups.messaging.catalogue import shipped
from ipt_groups.models import Alert, InboundMessage, Message
from tests.checkins.test_safety import STRANGER, message_of, only_alert
from tests.checkins.test_webhooks import sms, twilio_config  # noqa: F401 (autouse fixture)
from tests.conftest import NOW, count

CRISIS_LINE_TEXTS = {lang: c.texts["crisis_line"] for lang, c in shipped().by_language.items()}


def test_a_crisis_split_over_three_texts_alerts_on_the_last(client, member):
    for part in ("I want", "to"):
        assert message_of(sms(client, part)) != CRISIS_LINE_TEXTS["en"]
    assert message_of(sms(client, "die")) == CRISIS_LINE_TEXTS["en"]
    alert = only_alert()
    ids = [i.id for i in InboundMessage.query.order_by(InboundMessage.id)]
    assert alert.detail["phrase"] == "want to die" and alert.detail["split_over"] == ids


def test_a_text_after_a_crisis_text_is_not_a_second_crisis(client, member):
    assert message_of(sms(client, "kms")) == CRISIS_LINE_TEXTS["en"]
    assert message_of(sms(client, "ok thanks")) != CRISIS_LINE_TEXTS["en"]
    assert count(Alert) == 1


def test_texts_older_than_five_minutes_are_not_joined(app, client, member, monkeypatch):
    sms(client, "I want to")
    monkeypatch.setitem(app.config, "FIXED_NOW", NOW + timedelta(minutes=5, seconds=1))
    assert message_of(sms(client, "die")) != CRISIS_LINE_TEXTS["en"]
    assert count(Alert) == 0


def test_texts_of_two_senders_are_not_joined(client, member):
    sms(client, "I want to", sender=STRANGER)
    sms(client, "die")
    assert count(Alert) == 0


def _at(app, monkeypatch, minutes: float) -> None:
    monkeypatch.setitem(app.config, "FIXED_NOW", NOW + timedelta(minutes=minutes))


def _texts_to(phone: str) -> list[str]:
    rows = Message.query.filter_by(kind="safety_alert", to_phone=phone).order_by(Message.id)
    return [m.context["body"] for m in rows]


ONCALL = "+12025550999"  # twilio_config's


def test_a_senders_texts_join_the_open_alert_and_re_text_its_people_with_a_count(
    app, client, member, monkeypatch
):
    sms(client, "kms")
    for minutes in (1, 2, 3):
        _at(app, monkeypatch, minutes)
        assert message_of(sms(client, "i want to die")) == CRISIS_LINE_TEXTS["en"]  # each gets the line
    assert len(_texts_to(ONCALL)) == 1
    _at(app, monkeypatch, 6)
    sms(client, "kms")
    alert = only_alert()
    assert [e["source"] for e in alert.detail["later"]] == ["crisis_words"] * 4
    second = _texts_to(ONCALL)[1]
    assert (
        second.startswith("4 MORE message(s) from them since the last text.")
        and f"alert {alert.id}" in second
    )
    assert sorted(n["to"] for n in alert.notified) == ["facilitator", "facilitator", "oncall", "oncall"]
    _at(app, monkeypatch, 8)  # within 5 minutes of the last text: kept, not texted
    sms(client, "kms")
    assert len(_texts_to(ONCALL)) == 2 and len(only_alert().detail["later"]) == 5


def test_after_the_ack_a_crisis_text_raises_a_new_alert(client, member):
    sms(client, "kms")
    acknowledge(only_alert(), None, "test", NOW)
    _db.session.commit()
    sms(client, "kms")
    assert Alert.query.filter(Alert.acknowledged_at.is_(None)).count() == 1 and count(Alert) == 2


def test_strangers_alerts_are_joined_by_number(client, member):
    for sender in (STRANGER, STRANGER, "+13125559998"):
        sms(client, "kms", sender=sender)
    alerts = Alert.query.order_by(Alert.id).all()
    assert [a.detail["from_phone"] for a in alerts] == [STRANGER, "+13125559998"]
    assert len(alerts[0].detail["later"]) == 1 and "later" not in alerts[1].detail
