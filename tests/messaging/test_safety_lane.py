"""The safety lane of the dispatcher: safety texts claimed before any other due message (through a
partial index), never held by quiet hours, resent after an unknown outcome or a crash, served
between two sends of a long tick; on PostgreSQL a committed safety text wakes the scheduler's
listener (LISTEN/NOTIFY), a rolled-back one does not."""

import threading
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from ipt_groups.checkins.alerts import raise_safety_alert
from ipt_groups.checkins.sending import KINDS, ON_TICK
from ipt_groups.extensions import db as _db
from ipt_groups.leader import Leadership
from ipt_groups.messaging.base import RecordingSender, SendResult, UnknownOutcomeError
from ipt_groups.messaging.dispatch import DispatchSettings, run_safety, run_tick
from ipt_groups.messaging.outbox import plan_once, recover_interrupted, safety_due_query
from ipt_groups.messaging.pacing import Pacer
from ipt_groups.messaging.timing import QuietHours
from ipt_groups.messaging.wakeup import SafetyListener
from ipt_groups.models import Message
from ipt_groups.worker import Dispatcher
from tests.messaging.test_dispatch import _plan

ONCALL = "+12025550999"
FACILITATOR = "+12025550100"
STRANGER = "+13125559999"
NOON_CHICAGO = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
THREE_AM_CHICAGO = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
SETTINGS = DispatchSettings(
    kinds=KINDS, on_tick=ON_TICK, worker="w1", batch=100, quiet=QuietHours(), programme="P"
)
# The drill's backlog; the mechanism (the safety claim before the batch claim) does not depend on it.
BACKLOG = 10_000


@pytest.fixture(autouse=True)
def oncall(app, monkeypatch):
    monkeypatch.setitem(app.config, "ONCALL_PHONE", ONCALL)


@pytest.fixture
def member(started_group, make_member):
    m = make_member(0)  # America/Chicago
    started_group([m])
    return m


def _reminders(member, n, due):
    _plan(member, n, due=due, kind="custom")  # bodies "hello 0", "hello 1" ...


def _alert(member, now):
    alert = raise_safety_alert(member, "crisis_words", {"phrase": "kms"}, now)
    _db.session.commit()
    return alert


def test_safety_texts_are_claimed_before_ten_thousand_due_reminders(member):
    _reminders(member, BACKLOG, due=NOON_CHICAGO - timedelta(hours=1))  # due earlier than the alert
    _alert(member, NOON_CHICAGO)
    sender = RecordingSender()
    stats = run_tick(sender, NOON_CHICAGO, SETTINGS)
    assert stats.claimed == 2 + SETTINGS.batch
    assert sorted(m.to for m in sender.sent[:2]) == sorted([FACILITATOR, ONCALL])
    assert all(m.body.startswith("hello") for m in sender.sent[2:])


def test_the_safety_claim_reads_only_its_partial_index(db, member):
    _reminders(member, 2_000, due=NOON_CHICAGO - timedelta(hours=1))
    _alert(member, NOON_CHICAGO)
    postgres = db.engine.dialect.name == "postgresql"
    if postgres:
        db.session.execute(text("ANALYZE messages"))
    explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
    query = safety_due_query()
    plan = db.session.execute(
        text(explain + query.text).bindparams(*query._bindparams.values()),
        {
            "now": NOON_CHICAGO,
            "n": 100,
        },
    )
    assert "ix_messages_safety_pending" in " ".join(str(row) for row in plan)
    db.session.rollback()


def test_quiet_hours_never_hold_a_safety_text(member):
    _reminders(member, 1, due=THREE_AM_CHICAGO)
    _alert(member, THREE_AM_CHICAGO)
    sender = RecordingSender()
    run_tick(sender, THREE_AM_CHICAGO, SETTINGS)
    assert sorted(m.to for m in sender.sent) == sorted([FACILITATOR, ONCALL])
    assert Message.query.filter_by(kind="custom").one().reason == "deferred: recipient's quiet hours"


def test_an_unknown_outcome_is_resent_for_a_safety_text(member):
    alert = _alert(member, NOON_CHICAGO)
    sender = RecordingSender()
    sender.fail_next(UnknownOutcomeError("read timed out"))
    run_tick(sender, NOON_CHICAGO, SETTINGS)
    first = Message.query.filter_by(alert_id=alert.id).order_by(Message.id).first()
    assert first.state == "pending" and first.reason.startswith(
        "outcome unknown, so a safety text is sent again"
    )
    run_tick(sender, NOON_CHICAGO + timedelta(seconds=15), SETTINGS)
    _db.session.expire_all()
    resent = _db.session.get(Message, first.id)
    assert (resent.state, resent.attempts) == ("sent", 2)
    assert [m.to for m in sender.attempts].count(sender.attempts[0].to) == 2


class Crash(BaseException):
    """The scheduler process dying during a send."""


class CrashingSender(RecordingSender):
    def send(self, to, body, *, status_callback=None):
        super().send(to, body, status_callback=status_callback)
        raise Crash()


def test_a_safety_text_in_flight_during_a_crash_is_sent_again(member):
    alert = _alert(member, NOON_CHICAGO)
    with pytest.raises(Crash):
        run_tick(CrashingSender(), NOON_CHICAGO, SETTINGS)
    _db.session.rollback()
    assert recover_interrupted(NOON_CHICAGO, "w2") == (2, 0)  # one in flight, one never begun: both again
    healthy = RecordingSender()
    run_tick(
        healthy,
        NOON_CHICAGO,
        DispatchSettings(kinds=KINDS, on_tick=ON_TICK, worker="w2", batch=100, quiet=QuietHours()),
    )
    assert sorted(m.to for m in healthy.sent) == sorted([FACILITATOR, ONCALL])
    assert {m.state for m in Message.query.filter_by(alert_id=alert.id)} == {"sent"}


class WakingSender(RecordingSender):
    """After its third send, a safety alert is committed elsewhere and the dispatcher is woken."""

    def __init__(self, app, member_id, dispatcher_box):
        super().__init__()
        self.app, self.member_id, self.box = app, member_id, dispatcher_box

    def send(self, to, body, *, status_callback=None):
        result = super().send(to, body, status_callback=status_callback)
        if len(self.sent) == 3:
            with self.app.app_context():
                from ipt_groups.models import Member

                _alert(_db.session.get(Member, self.member_id), NOON_CHICAGO)
                _db.session.remove()
            self.box[0].wake_later()
        return result


def test_a_wake_up_during_a_long_tick_is_served_between_two_sends(app, member, monkeypatch):
    monkeypatch.setitem(app.config, "DISPATCH_THREADS", 1)  # one sending thread: a strict order to check
    _reminders(member, 20, due=NOON_CHICAGO - timedelta(hours=1))
    box = []
    sender = WakingSender(app, member.id, box)
    dispatcher = Dispatcher(app, sender, None, "w1", clock=lambda: NOON_CHICAGO)
    dispatcher.wake_later = dispatcher.woken.set  # what the listener does before it waits for the lock
    box.append(dispatcher)
    stats = dispatcher.tick(now=NOON_CHICAGO)
    assert stats.claimed == 20  # the tick's own; the safety run inside it counted its own two
    assert [m.body.startswith("hello") for m in sender.sent[:3]] == [True] * 3
    assert sorted(m.to for m in sender.sent[3:5]) == sorted([FACILITATOR, ONCALL])
    assert len(sender.sent) == 22 and not dispatcher.woken.is_set()


def test_a_wake_up_while_a_tick_holds_the_lock_returns_at_once(app, member):
    _alert(member, NOON_CHICAGO)
    sender = RecordingSender()
    dispatcher = Dispatcher(app, sender, None, "w1", clock=lambda: NOON_CHICAGO)
    with dispatcher.lock:  # a tick is running
        _wake_as_the_listener(dispatcher)  # which must not wait for the tick to end
        assert dispatcher.woken.is_set() and sender.sent == []
    dispatcher.tick(now=NOON_CHICAGO)
    assert (
        sorted(m.to for m in sender.sent) == sorted([FACILITATOR, ONCALL]) and not dispatcher.woken.is_set()
    )


class WakingAfterTheLastSend(RecordingSender):
    """After the tick's last reminder, a safety alert is committed and the dispatcher woken (as the
    listener would, with the tick still holding the lock)."""

    def __init__(self, app, member_id, reminders):
        super().__init__()
        self.app, self.member_id, self.reminders, self.dispatcher = app, member_id, reminders, None

    def send(self, to, body, *, status_callback=None):
        result = super().send(to, body, status_callback=status_callback)
        if len(self.sent) == self.reminders:
            with self.app.app_context():
                from ipt_groups.models import Member

                _alert(_db.session.get(Member, self.member_id), NOON_CHICAGO)
                _db.session.remove()
            _wake_as_the_listener(self.dispatcher)
        return result


def _wake_as_the_listener(dispatcher) -> None:
    """Call `wake` from a thread of its own, as SafetyListener does; it must return at once."""
    listener = threading.Thread(target=dispatcher.wake, args=("1",), daemon=True)
    listener.start()
    listener.join(2)
    assert not listener.is_alive(), "wake() blocked while a tick held the lock"


def test_a_wake_up_after_the_ticks_last_send_is_served_when_the_tick_ends(app, member, monkeypatch):
    monkeypatch.setitem(app.config, "DISPATCH_THREADS", 1)
    _reminders(member, 3, due=NOON_CHICAGO - timedelta(hours=1))
    sender = WakingAfterTheLastSend(app, member.id, 3)
    dispatcher = sender.dispatcher = Dispatcher(app, sender, None, "w1", clock=lambda: NOON_CHICAGO)
    dispatcher.tick(now=NOON_CHICAGO)
    assert sorted(m.to for m in sender.sent[3:]) == sorted([FACILITATOR, ONCALL])  # before tick() returned
    assert not dispatcher.woken.is_set()


def test_a_wake_up_between_ticks_dispatches_at_once(app, member):
    _alert(member, NOON_CHICAGO)
    sender = RecordingSender()
    Dispatcher(app, sender, None, "w1", clock=lambda: NOON_CHICAGO).wake("1")
    assert sorted(m.to for m in sender.sent) == sorted([FACILITATOR, ONCALL])


# --- under load (what bench/safety_drill.py found) ----------------------------------------------------


class RecordingPacer:
    """Which pacer call each send made."""

    def __init__(self):
        self.calls = []

    def wait(self):
        self.calls.append("wait")
        return 0.0

    def take(self):
        self.calls.append("take")


def test_a_safety_text_takes_its_slot_at_once_and_the_reminders_wait_for_theirs(member):
    _reminders(member, 2, due=NOON_CHICAGO - timedelta(hours=1))
    _alert(member, NOON_CHICAGO)
    pacer = RecordingPacer()
    run_tick(RecordingSender(), NOON_CHICAGO, SETTINGS, pacer)
    assert pacer.calls == ["take", "take", "wait", "wait"]


def test_a_slot_taken_by_a_safety_text_is_paid_back_by_the_sends_after_it():
    clock = FakeClock()
    pacer = Pacer(10, clock=clock, sleep=clock.sleep)
    assert pacer.wait() == 0.0
    pacer.take()  # no wait, whatever the bucket holds
    assert pacer.wait() == pytest.approx(0.2)  # its own slot and the one the safety text took
    assert pacer.wait() == pytest.approx(0.1)


def test_a_send_sleeping_for_its_slot_holds_up_no_safety_text():
    # The pacer once slept holding its lock: a safety text waited behind every sleeping reminder thread.
    sleeping, release = threading.Event(), threading.Event()

    def sleep(_seconds):
        sleeping.set()
        release.wait(5)

    pacer = Pacer(1, clock=lambda: 0.0, sleep=sleep)
    pacer.wait()
    reminder = threading.Thread(target=pacer.wait, daemon=True)  # its slot is a second away: it sleeps
    reminder.start()
    assert sleeping.wait(2)
    safety = threading.Thread(target=pacer.take, daemon=True)
    safety.start()
    safety.join(1)
    taken_while_sleeping = not safety.is_alive()
    release.set()
    reminder.join(5)
    assert taken_while_sleeping


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class SlowFacilitator(RecordingSender):
    """The facilitator's number answers only once the on-call text has gone (or after 5 s): sent one
    after the other, the on-call text would wait for it."""

    def __init__(self):
        super().__init__()
        self.oncall_sent, self.oncall_before_facilitator = threading.Event(), None

    def send(self, to, body, *, status_callback=None):
        if to == FACILITATOR:
            self.oncall_before_facilitator = self.oncall_sent.wait(5)
        result = super().send(to, body, status_callback=status_callback)
        if to == ONCALL:
            self.oncall_sent.set()
        return result


@pytest.mark.postgres
def test_a_slow_safety_text_holds_up_no_other(db, member):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("parallel sending is PostgreSQL's; SQLite sends one at a time")
    _alert(member, NOON_CHICAGO)
    sender = SlowFacilitator()
    stats = run_safety(sender, NOON_CHICAGO, replace(SETTINGS, threads=2))
    assert stats.by_outcome == {"sent": 2} and sender.oncall_before_facilitator is True


class HangingFacilitator(RecordingSender):
    """The facilitator's number hangs (a provider failing, the adapter waiting) until released."""

    def __init__(self):
        super().__init__()
        self.hanging, self.release = threading.Event(), threading.Event()

    def send(self, to, body, *, status_callback=None):
        if to == FACILITATOR:
            self.hanging.set()
            self.release.wait(5)
        return super().send(to, body, status_callback=status_callback)


@pytest.mark.postgres
def test_a_wake_up_during_a_tick_is_served_while_another_safety_run_waits_for_a_slow_text(
    app, db, member, monkeypatch
):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("sending threads serve wake-ups side by side on PostgreSQL; SQLite has one")
    monkeypatch.setitem(app.config, "DISPATCH_THREADS", 2)
    _alert(member, NOON_CHICAGO)
    sender = HangingFacilitator()
    dispatcher = Dispatcher(app, sender, None, "w1", clock=lambda: NOON_CHICAGO)
    with dispatcher.lock:  # a tick is running; its two sending threads call _between at their gaps
        dispatcher.woken.set()
        first = threading.Thread(target=dispatcher._between, daemon=True)
        first.start()
        assert sender.hanging.wait(5)  # the first run waits for the facilitator's text
        detail = {"phrase": "kms"}
        stranger = raise_safety_alert(None, "crisis_words", detail, NOON_CHICAGO, from_phone=STRANGER)
        _db.session.commit()
        dispatcher.woken.set()  # the listener's wake-up
        second = threading.Thread(target=dispatcher._between, daemon=True)
        second.start()
        second.join(5)
        meanwhile = [m.body for m in sender.sent]
        sender.release.set()
        first.join(5)
    assert any(f"(alert {stranger.id})" in body for body in meanwhile)


def test_the_heartbeat_escalates_what_came_due_with_no_tick(app, member, monkeypatch):
    # A tick sending a backlog of reminders lasts minutes; escalations waited for its end.
    monkeypatch.setitem(app.config, "ESCALATE_AFTER_MINUTES", 30)
    _alert(member, NOON_CHICAGO)
    sender = RecordingSender()
    later = NOON_CHICAGO + timedelta(minutes=31)
    dispatcher = Dispatcher(app, sender, None, "w1", clock=lambda: later)
    leadership = Leadership(app)
    try:
        assert dispatcher.keep_alive(leadership) is True
    finally:
        leadership.release()
    escalated = [m.to for m in sender.sent if m.body.startswith("NOT YET ACKNOWLEDGED")]
    assert escalated == [ONCALL]


# --- PostgreSQL: LISTEN/NOTIFY -------------------------------------------------------------------


def _postgres_only(db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; on SQLite the tick is the mechanism")


@pytest.mark.postgres
def test_a_committed_safety_text_wakes_the_listener_and_a_rolled_back_one_does_not(db):
    _postgres_only(db)
    payloads, woken = [], threading.Event()

    def on_wake(payload):
        if payload is not None:
            payloads.append(payload)
            woken.set()

    listener = SafetyListener(db.engine.url, on_wake, poll_s=0.2)
    listener.start()
    try:
        assert listener.listening.wait(10)
        row = {"kind": "safety_alert", "due_at": NOON_CHICAGO, "to_phone": ONCALL, "context": {"body": "x"}}
        plan_once({**row, "dedupe_key": "rolled-back"})
        db.session.rollback()
        committed = plan_once({**row, "dedupe_key": "committed"})
        db.session.commit()
        assert woken.wait(10)
        assert payloads == [str(committed.id)]  # NOTIFYs arrive in commit order: the first never will
    finally:
        listener.stop()
        listener.join(10)


class ThreadSafeSender:
    def __init__(self, expected: int):
        self.lock, self.sent, self.done, self.expected = threading.Lock(), [], threading.Event(), expected

    def send(self, to, body, *, status_callback=None):
        with self.lock:
            self.sent.append(to)
            if len(self.sent) >= self.expected:
                self.done.set()
        return SendResult(f"SM{uuid.uuid4().hex}", "queued")


@pytest.mark.postgres
def test_the_listener_dispatches_a_committed_alert_with_no_tick(app, db, member):
    _postgres_only(db)
    sender = ThreadSafeSender(expected=2)
    dispatcher = Dispatcher(app, sender, None, "w-wake", clock=lambda: NOON_CHICAGO)
    listener = SafetyListener(db.engine.url, dispatcher.wake, poll_s=0.2)
    listener.start()
    try:
        assert listener.listening.wait(10)
        alert = _alert(member, NOON_CHICAGO)
        assert sender.done.wait(10)
    finally:
        listener.stop()
        listener.join(10)
    assert sorted(sender.sent) == sorted([FACILITATOR, ONCALL])
    db.session.expire_all()
    rows = Message.query.filter_by(alert_id=alert.id).all()
    assert {(m.state, m.claimed_by) for m in rows} == {("sent", "w-wake")}


class PatientSender(RecordingSender):
    """An adapter that waits between attempts and offers a safety sender that waits less."""

    def __init__(self):
        super().__init__()
        self.safety = RecordingSender()

    def for_safety(self):
        return self.safety


@pytest.mark.parametrize("run", [run_tick, run_safety])
def test_safety_texts_go_through_the_adapters_safety_sender_and_reminders_do_not(member, run):
    _reminders(member, 3, due=NOON_CHICAGO - timedelta(hours=1))
    _alert(member, NOON_CHICAGO)
    sender = PatientSender()
    run(sender, NOON_CHICAGO, SETTINGS)
    assert sorted(m.to for m in sender.safety.sent) == sorted([FACILITATOR, ONCALL])
    assert all(m.body.startswith("hello") for m in sender.sent)
    assert len(sender.sent) == (3 if run is run_tick else 0)


class HangingPhone(RecordingSender):
    """One number's send hangs (a provider failing, the adapter waiting to try again) until released."""

    def __init__(self, phone):
        super().__init__()
        self.phone, self.hanging, self.release = phone, threading.Event(), threading.Event()

    def send(self, to, body, *, status_callback=None):
        if to == self.phone:
            self.hanging.set()
            self.release.wait(10)
        return super().send(to, body, status_callback=status_callback)


def _until(predicate, seconds=5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.01)
    return predicate()


@pytest.mark.postgres
def test_a_wake_up_is_served_while_the_ticks_last_lane_waits_for_a_slow_send(
    app, db, member, make_member, monkeypatch
):
    """The drill's p99: every lane but one had finished, that one's reminder was retrying for 9 s, and
    with no sending thread left to serve them the alerts committed meanwhile waited for it."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("parallel sending lanes are PostgreSQL's; SQLite sends one at a time")
    monkeypatch.setitem(app.config, "DISPATCH_THREADS", 2)
    other = next(m for m in (make_member(i) for i in range(1, 4)) if m.id % 2 != member.id % 2)
    _reminders(member, 1, due=NOON_CHICAGO - timedelta(hours=1))
    _reminders(other, 3, due=NOON_CHICAGO - timedelta(hours=1))  # the other lane (lanes by member id)
    sender = HangingPhone(member.phone)
    dispatcher = Dispatcher(app, sender, None, "w1", clock=lambda: NOON_CHICAGO)
    tick = threading.Thread(target=dispatcher.tick, kwargs={"now": NOON_CHICAGO}, daemon=True)
    tick.start()
    try:
        assert sender.hanging.wait(10)
        assert _until(lambda: sum(m.to == other.phone for m in sender.sent) == 3)  # its lane is done
        stranger = raise_safety_alert(
            None, "crisis_words", {"phrase": "kms"}, NOON_CHICAGO, from_phone=STRANGER
        )
        _db.session.commit()
        dispatcher.wake("test")  # the listener: the tick holds the lock, so it only sets `woken`
        served = _until(lambda: any(f"(alert {stranger.id})" in m.body for m in sender.sent))
    finally:
        sender.release.set()
        tick.join(10)
    assert served
