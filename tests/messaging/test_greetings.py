"""What texts call a member: the preferred name when set, else the given names of a "Family, Given"
name, else the first word; in reminders (tests/people/test_import_files.py) and safety texts alike."""

from __future__ import annotations

import pytest

from ipt_groups.checkins.alerts import raise_safety_alert
from ipt_groups.extensions import db
from ipt_groups.messaging.base import RecordingSender
from ipt_groups.messaging.texts import first_name
from tests.checkins.test_escalation import T0, _tick


@pytest.mark.parametrize(
    ("name", "preferred", "greeting"),
    [
        ("Maria Gonzalez", None, "Maria"),
        ("Maria Gonzalez", "Mari", "Mari"),
        ("Nguyen, Thi Lan", None, "Thi Lan"),
        ("Nguyen, Thi Lan", "Lan", "Lan"),
        ("Nguyen ,  Thi  Lan ", "  ", "Thi Lan"),
        ("Smith, John, Jr.", None, "John"),
        ("Nguyen,", None, "Nguyen,"),
        ("Cher", None, "Cher"),
    ],
)
def test_first_name(name, preferred, greeting):
    assert first_name(name, preferred) == greeting


def test_the_safety_text_names_the_member_as_greetings_do(app, monkeypatch, started_group, make_member):
    monkeypatch.setitem(app.config, "ONCALL_PHONE", "+12025550999")
    member = make_member(0, name="Nguyen, Thi Lan", preferred_name="Lan")
    started_group([member])
    raise_safety_alert(member, "crisis_words", {"phrase": "kms"}, T0)
    db.session.commit()
    sender = RecordingSender()
    _tick(sender, T0)
    assert sender.sent and all(f"member {member.id} (Lan)" in m.body for m in sender.sent)
