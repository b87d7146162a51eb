"""The dispatcher: exactly once under repeated and concurrent ticks, nothing lost or doubled by a
crash, expiry after downtime, quiet hours at send time, and what each provider refusal changes."""

import threading
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from ipt_groups.checkins.sending import KINDS, ON_TICK
from ipt_groups.extensions import db as _db
from ipt_groups.leader import ADVISORY_LOCK_KEY, Leadership
from ipt_groups.messaging.base import (
    PermanentSendError,
    RecordingSender,
    RetryableSendError,
    SendResult,
    UnknownOutcomeError,
)
from ipt_groups.messaging.dispatch import DispatchSettings, run_tick
from ipt_groups.messaging.outbox import MAX_ATTEMPTS, claim_due, plan_messages, recover_interrupted
from ipt_groups.messaging.timing import QuietHours
from ipt_groups.models import Alert, Member, Message
from ipt_groups.worker import tick
from tests.conftest import NOW

SETTINGS = DispatchSettings(
    kinds=KINDS, on_tick=ON_TICK, worker="w1", batch=100, quiet=QuietHours(), programme="Wellbeing Groups"
)
NOON_CHICAGO = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


def _plan(member, n=1, due=NOW, deadline=None, kind="custom"):
    rows = [
        {
            "dedupe_key": f"test:{member.id}:{kind}:{i}",
            "kind": kind,
            "member_id": member.id,
            "due_at": due,
            "deadline_at": deadline,
            "context": {"body": f"hello {i}"},
        }
        for i in range(n)
    ]
    plan_messages(rows)
    _db.session.commit()


@pytest.fixture
def member(make_member):
    return make_member(0)  # America/Chicago


def _states():
    return sorted(m.state for m in Message.query)


def test_same_tick_twice_sends_each_message_once(db, member):
    _plan(member, 5)
    sender = RecordingSender()
    first = run_tick(sender, NOON_CHICAGO, SETTINGS)
    second = run_tick(sender, NOON_CHICAGO, SETTINGS)
    assert (first.claimed, second.claimed) == (5, 0)
    assert sorted(sender.bodies) == [f"hello {i}" for i in range(5)]
    assert _states() == ["sent"] * 5


class ThreadSafeSender:
    def __init__(self):
        self.lock, self.bodies = threading.Lock(), []

    def send(self, to, body, *, status_callback=None):
        with self.lock:
            self.bodies.append(body)
        return SendResult(f"SM{uuid.uuid4().hex}", "queued")


def test_two_dispatchers_at_once_send_each_message_once(app, db, member):
    _plan(member, 60)
    sender, errors = ThreadSafeSender(), []

    def dispatcher(worker):
        with app.app_context():
            try:
                settings = DispatchSettings(
                    kinds=KINDS, on_tick=ON_TICK, worker=worker, batch=7, quiet=QuietHours(), programme="P"
                )
                while run_tick(sender, NOON_CHICAGO, settings).claimed:
                    pass
            except Exception as exc:  # surfaced below: a thread's exception would otherwise vanish
                errors.append(exc)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=dispatcher, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(sender.bodies) == sorted(f"hello {i}" for i in range(60))
    assert _states() == ["sent"] * 60


class Crash(BaseException):
    """The process dying in the middle of a send."""


class CrashingSender(RecordingSender):
    def send(self, to, body, *, status_callback=None):
        super().send(to, body, status_callback=status_callback)
        raise Crash()


def test_crash_during_send_is_never_resent_and_the_rest_go_out_once(db, member):
    _plan(member, 3)
    crashing = CrashingSender()
    with pytest.raises(Crash):
        run_tick(crashing, NOON_CHICAGO, SETTINGS)
    _db.session.rollback()
    assert _states() == ["sending"] * 3  # one in flight, two claimed but not started
    requeued, unknown = recover_interrupted(NOON_CHICAGO, "w2")
    assert (requeued, unknown) == (2, 1)
    healthy = RecordingSender()
    run_tick(
        healthy,
        NOON_CHICAGO,
        DispatchSettings(kinds=KINDS, on_tick=ON_TICK, worker="w2", batch=100, quiet=QuietHours()),
    )
    assert len(crashing.attempts) + len(healthy.sent) == 3
    assert sorted(crashing.bodies_tried + healthy.bodies) == ["hello 0", "hello 1", "hello 2"]
    assert _states() == ["sent", "sent", "unknown"]
    assert "not resent" in Message.query.filter_by(state="unknown").one().reason


CrashingSender.bodies_tried = property(lambda self: [m.body for m in self.attempts])


def test_claimed_rows_of_a_live_worker_are_not_taken(db, member):
    _plan(member, 2)
    assert len(claim_due(NOON_CHICAGO, "live", 10)) == 2
    assert recover_interrupted(NOON_CHICAGO, "other", lease=timedelta(minutes=15)) == (0, 0)
    assert recover_interrupted(
        NOON_CHICAGO + timedelta(minutes=16), "other", lease=timedelta(minutes=15)
    ) == (2, 0)


def test_after_downtime_late_reminders_expire_and_the_rest_go_at_once(db, member):
    _plan(member, 1, due=NOW - timedelta(days=2), deadline=NOW - timedelta(days=1), kind="late")
    _plan(member, 1, due=NOW - timedelta(days=2), deadline=NOW + timedelta(days=1), kind="still_useful")
    sender = RecordingSender()
    stats = run_tick(sender, NOON_CHICAGO, SETTINGS)
    assert stats.expired == 1 and len(sender.sent) == 1
    late = Message.query.filter_by(kind="late").one()
    assert late.state == "expired" and "session had started" in late.reason


def test_due_inside_quiet_hours_is_deferred_not_dropped(db, member):
    eleven_pm_chicago = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)
    _plan(member, 1, due=eleven_pm_chicago, deadline=eleven_pm_chicago + timedelta(days=1))
    sender = RecordingSender()
    run_tick(sender, eleven_pm_chicago, SETTINGS)
    message = Message.query.one()
    assert sender.sent == [] and message.state == "pending"
    assert message.due_at == datetime(2026, 11, 26, 14, 0, tzinfo=UTC)  # 08:00 Chicago
    run_tick(sender, message.due_at, SETTINGS)
    assert Message.query.one().state == "sent"


def test_due_inside_quiet_hours_with_no_time_left_expires(db, member):
    eleven_pm_chicago = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)
    _plan(member, 1, due=eleven_pm_chicago, deadline=eleven_pm_chicago + timedelta(hours=2))
    run_tick(RecordingSender(), eleven_pm_chicago, SETTINGS)
    assert Message.query.one().state == "expired"


def test_opted_out_member_is_suppressed(db, member):
    member.opted_out_at = NOW
    _db.session.commit()
    _plan(member, 1)
    sender = RecordingSender()
    run_tick(sender, NOON_CHICAGO, SETTINGS)
    assert sender.attempts == [] and Message.query.one().state == "suppressed"


def test_retryable_errors_retry_later_then_fail(db, member):
    _plan(member, 1)
    sender = RecordingSender()
    sender.fail_always(member.phone, RetryableSendError(20429, "too many requests"))
    now = NOON_CHICAGO
    for _ in range(MAX_ATTEMPTS):
        run_tick(sender, now, SETTINGS)
        now = Message.query.one().due_at
    message = Message.query.one()
    assert message.state == "failed" and message.attempts == MAX_ATTEMPTS and "gave up" in message.reason


def test_unknown_outcome_is_not_retried(db, member):
    _plan(member, 1)
    sender = RecordingSender()
    sender.fail_next(UnknownOutcomeError("read timed out"))
    run_tick(sender, NOON_CHICAGO, SETTINGS)
    run_tick(sender, NOON_CHICAGO + timedelta(hours=1), SETTINGS)
    assert len(sender.attempts) == 1 and Message.query.one().state == "unknown"


@pytest.mark.parametrize("kind", ["invalid_number", "not_mobile"])
def test_bad_number_flags_the_phone_and_alerts(db, member, kind):
    _plan(member, 2)
    sender = RecordingSender()
    sender.fail_always(member.phone, PermanentSendError(21211, "invalid 'To'", kind))
    run_tick(sender, NOON_CHICAGO, SETTINGS)
    assert _db.session.get(Member, member.id).phone_problem == kind
    assert _states() == ["failed", "suppressed"]  # the second is not even tried
    assert Alert.query.filter_by(kind="operator").count() == 1


def test_carrier_unsubscribed_opts_the_member_out(db, member):
    _plan(member, 3)
    sender = RecordingSender()
    sender.fail_next(PermanentSendError(21610, "unsubscribed", "unsubscribed"))
    run_tick(
        sender,
        NOON_CHICAGO,
        DispatchSettings(kinds=KINDS, on_tick=ON_TICK, worker="w", batch=1, quiet=QuietHours()),
    )
    refreshed = _db.session.get(Member, member.id)
    assert refreshed.opted_out_at is not None and refreshed.sms_consent is False
    assert _states() == ["cancelled", "cancelled", "failed"]


def test_config_error_alerts_the_operator_once(db, member):
    _plan(member, 2)
    sender = RecordingSender()
    sender.fail_always(member.phone, PermanentSendError(21606, "from number not SMS-capable", "config"))
    run_tick(sender, NOON_CHICAGO, SETTINGS)
    assert _states() == ["failed", "failed"]
    assert Alert.query.filter_by(kind="operator").count() == 1


def test_one_scheduler_leads_and_another_takes_over_once_it_lets_go(app, db):
    first, second = Leadership(app), Leadership(app)
    try:
        assert (first.hold(), second.hold()) == (True, False)
        assert (first.hold(), second.hold()) == (True, False)  # tried every tick: still the first's
        first.release()
        assert second.hold() is True and first.hold() is False
    finally:
        first.release()
        second.release()


def test_programme_texts_replace_defaults_and_refuse_topic_words(client, auth):
    url = "/api/v1/settings/message-texts"
    # The shape before languages (a text directly under its key) is English.
    grief = {"texts": {"session_reminder_2h": "Your grief group meets at {time}."}}
    r = client.put(url, json=grief, headers=auth)
    assert r.status_code == 422 and "grief" in str(
        r.json["errors"]["json"]["texts"]["en"]["session_reminder_2h"]
    )
    bad = client.put(
        url, json={"texts": {"session_reminder_2h": "See you at {hour}", "nope": "x"}}, headers=auth
    )
    assert set(bad.json["errors"]["json"]["texts"]["en"]) == {"session_reminder_2h", "nope"}
    ok = client.put(url, json={"texts": {"session_reminder_2h": "{first_name}: today {time}."}}, headers=auth)
    assert ok.status_code == 200
    assert client.put(url, json={**grief, "allow_topic_words": True}, headers=auth).status_code == 200
    assert client.get(url, headers=auth).json["texts"] == {"en": grief["texts"]}


def test_default_texts_reveal_no_therapy():
    from ipt_groups.messaging.catalogue import shipped
    from ipt_groups.messaging.texts import reveals_therapy
    from ipt_groups.settings.texts import INSTRUMENT_WORDING

    for catalogue in shipped().by_language.values():
        for key, body in catalogue.texts.items():
            if not INSTRUMENT_WORDING.match(key):  # the validated wording is exempt (test_surveys.py)
                assert reveals_therapy(body) == [], (catalogue.language, key, body)


def test_one_tick_sends_several_batches_on_parallel_lanes_once_each(app, db, make_member):
    members = [make_member(i) for i in range(5)]
    for m in members:
        _plan(m, 12)
    sender = ThreadSafeSender()
    settings = DispatchSettings(
        kinds=KINDS, on_tick=ON_TICK, worker="w1", batch=10, quiet=QuietHours(), threads=4, budget_s=30
    )
    stats = run_tick(sender, NOON_CHICAGO, settings)
    assert stats.claimed == 60 and stats.by_outcome == {"sent": 60}
    assert len(sender.bodies) == 60 and _states() == ["sent"] * 60


def test_a_tick_stops_claiming_when_its_budget_is_spent(db, member):
    _plan(member, 30)
    stats = run_tick(
        RecordingSender(),
        NOON_CHICAGO,
        DispatchSettings(kinds=KINDS, on_tick=ON_TICK, worker="w1", batch=10, quiet=QuietHours()),
    )
    assert stats.claimed == 10  # no budget: one batch per tick, the rest wait for the next


def _kill_lock_session(db):
    """What a PostgreSQL restart does to the session holding the scheduler's advisory lock (waiting,
    as pg_terminate_backend does not, until the backend has gone and the lock with it)."""
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_locks WHERE locktype = 'advisory' "
                "AND objid = :k AND pid <> pg_backend_pid()"
            ),
            {"k": ADVISORY_LOCK_KEY},
        )


def test_a_lost_lock_is_taken_again_before_the_next_tick(app, db):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's; SQLite holds a file lock for the process's life")
    lock, other = Leadership(app), Leadership(app)
    try:
        assert lock.hold()
        _kill_lock_session(db)
        assert lock.hold() is True  # taken again on a new connection
        assert other.hold() is False
    finally:
        lock.release()
        other.release()


def test_a_scheduler_whose_lock_was_taken_follows_and_leaves_the_work_that_runs_once(app, db, member):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's")
    first, second = Leadership(app), Leadership(app)
    try:
        assert first.hold()
        _kill_lock_session(db)
        assert second.hold() is True and first.hold() is False
    finally:
        first.release()
        second.release()
    assert tick(app, RecordingSender(), None, "follower", NOON_CHICAGO, lead=False) is not None


def test_the_leader_sweeps_expired_rows_and_a_follower_sends_none_of_them(app, db, member):
    _plan(member, 2, due=NOON_CHICAGO - timedelta(hours=1), deadline=NOON_CHICAGO - timedelta(minutes=1))
    settings = DispatchSettings(kinds=KINDS, on_tick=ON_TICK, worker="w", batch=10, quiet=QuietHours())
    sender = RecordingSender()
    follower = run_tick(sender, NOON_CHICAGO, replace(settings, lead=False))
    # No sweep in a follower, but what it claims past its deadline expires instead of leaving.
    assert (follower.expired, follower.by_outcome, sender.attempts) == (0, {"expired": 2}, [])
    late = {"due": NOON_CHICAGO - timedelta(hours=1), "deadline": NOON_CHICAGO - timedelta(minutes=1)}
    _plan(member, 1, kind="later", **late)
    assert run_tick(sender, NOON_CHICAGO, settings).expired == 1 and sender.attempts == []
