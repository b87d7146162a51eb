"""Texts to staff show on lock screens too: a safety text, an RSVP notice and the facilitator's
reminder name a group by its number, never by its name (which may name its topic), and a stranger's
safety text does not say what they wrote."""

from datetime import date

import pytest
from flask import current_app

from ipt_groups.checkins.alerts import raise_safety_alert
from ipt_groups.cycles.operations import start_cycle
from ipt_groups.extensions import db as _db
from ipt_groups.groups.operations import enrol_member
from ipt_groups.messaging.base import RecordingSender
from ipt_groups.messaging.texts import reveals_therapy
from ipt_groups.models import Message
from ipt_groups.worker import tick
from tests.checkins.test_webhooks import sms, twilio_config  # noqa: F401 (autouse fixture)
from tests.conftest import NOW

NAME = "Tuesday grief"  # a name that names the topic


@pytest.fixture
def grief_member(db, make_member, make_facilitator, make_group):
    member = make_member(0)
    group = make_group(make_facilitator(0).id, name=NAME)
    enrol_member(group, member, {}, "test", NOW)
    db.session.commit()
    return member, group


def _sent(now) -> list[str]:
    sender = RecordingSender()
    tick(current_app._get_current_object(), sender, None, "w1", now=now)
    return sender.bodies


def test_a_safety_text_names_the_group_by_its_number(grief_member):
    member, group = grief_member
    raise_safety_alert(member, "crisis_words", {"phrase": "kms"}, NOW)
    _db.session.commit()
    bodies = _sent(NOW)
    assert len(bodies) == 2 and all(f"of group {group.id} " in b for b in bodies)
    assert all(NAME not in b and reveals_therapy(b) == [] for b in bodies)


def test_a_strangers_safety_text_says_nothing_of_what_they_wrote(client, grief_member):
    sms(client, "I want to kill myself", sender="+13125559999")
    bodies = _sent(NOW)
    assert bodies and all(
        "crisis" not in b and "kill" not in b and "needs same-day follow-up" in b for b in bodies
    )


def test_the_rsvp_notice_and_the_facilitators_reminder_name_no_group(client, grief_member):
    member, group = grief_member
    start_cycle(group, {"first_date": date(2026, 12, 1)}, "test", NOW)
    _db.session.commit()
    sms(client, "X", sender=member.phone)
    notice = Message.query.filter_by(kind="rsvp_notice").one().context["body"]
    assert f"can't come to group {group.id} on" in notice and NAME not in notice
    reminder = Message.query.filter_by(kind="facilitator_24h").order_by(Message.due_at).first()
    bodies = _sent(reminder.due_at)
    facilitator = [b for b in bodies if "members:" in b]
    assert facilitator and all(f"group {group.id} meets tomorrow" in b and NAME not in b for b in facilitator)
