"""Words of crisis split over several texts of one sender ("I want to", "die"): read joined with the
sender's texts of the last 5 minutes, never twice for a phrase already alerted on, never across
senders or beyond the window."""

from datetime import timedelta

from ipt_groups.checkins.crisis import CRISIS_LINE_TEXTS
from ipt_groups.models import Alert, InboundMessage
from tests.checkins.test_safety import STRANGER, message_of, only_alert
from tests.checkins.test_webhooks import sms, twilio_config  # noqa: F401 (autouse fixture)
from tests.conftest import NOW, count


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
