"""Review of issue 11, from outside: the safety lane's wake-up while a long tick is sending. The real
listener (SafetyListener._listen) calls `Dispatcher.wake` for one notification at a time; the stand-in
below does the same from its own thread. The finding was a strict xfail until its fix."""

import queue
import threading
from datetime import UTC, datetime

from ipt_groups.checkins.alerts import raise_safety_alert
from ipt_groups.extensions import db as _db
from ipt_groups.messaging.base import RecordingSender
from ipt_groups.models import Member
from ipt_groups.worker import Dispatcher
from tests.messaging.test_dispatch import _plan

NOON_CHICAGO = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
STRANGER = "+13125559999"


class Listener(threading.Thread):
    """What SafetyListener does with notifications: on_wake(payload) for each, one after the other."""

    def __init__(self, on_wake):
        super().__init__(daemon=True)
        self.on_wake, self.inbox = on_wake, queue.Queue()

    def run(self):
        for payload in iter(self.inbox.get, None):
            self.on_wake(payload)


class CrisesDuringTheTick(RecordingSender):
    """While the tick sends reminders, a member's crisis is committed (before "hello 1"), then a
    stranger's (before "hello 3"); each is notified to the listener as its commit would be."""

    def __init__(self, app, member_id):
        super().__init__()
        self.app, self.member_id, self.dispatcher, self.listener = app, member_id, None, None

    def send(self, to, body, *, status_callback=None):
        result = super().send(to, body, status_callback=status_callback)
        if body in ("hello 0", "hello 2"):
            with self.app.app_context():
                member = _db.session.get(Member, self.member_id) if body == "hello 0" else None
                raise_safety_alert(
                    member, "crisis_words", {"phrase": "kms"}, NOON_CHICAGO, from_phone=STRANGER
                )
                _db.session.commit()
                _db.session.remove()
            self.listener.inbox.put(body)
            self.dispatcher.woken.wait(1)  # the listener has had the notification (or is stuck)
        return result


def test_a_second_crisis_during_a_long_tick_is_sent_before_the_ticks_next_send(
    app, started_group, make_member, monkeypatch
):
    monkeypatch.setitem(app.config, "ONCALL_PHONE", "+12025550999")
    monkeypatch.setitem(app.config, "DISPATCH_THREADS", 1)  # one sending thread: a strict order to check
    member = make_member(0)
    started_group([member])
    _plan(member, 10, due=NOON_CHICAGO)  # bodies "hello 0" ... "hello 9"
    sender = CrisesDuringTheTick(app, member.id)
    dispatcher = Dispatcher(app, sender, None, "w1", clock=lambda: NOON_CHICAGO)
    sender.dispatcher, sender.listener = dispatcher, Listener(dispatcher.wake)
    sender.listener.start()
    try:
        dispatcher.tick(now=NOON_CHICAGO)
    finally:
        sender.listener.inbox.put(None)
        sender.listener.join(10)
    bodies = sender.bodies
    stranger = next(i for i, b in enumerate(bodies) if STRANGER in b)
    assert stranger < bodies.index("hello 9"), bodies
