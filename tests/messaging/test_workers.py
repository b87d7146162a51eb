"""Several scheduler processes: each beats, one leads, and the leader recovers only the claims of a
process that stopped beating; a live process's in-flight claims are never taken."""

from datetime import UTC, datetime, timedelta

import pytest

from ipt_groups.extensions import db as _db
from ipt_groups.leader import Leadership
from ipt_groups.messaging.base import RecordingSender
from ipt_groups.messaging.outbox import claim_due, plan_messages
from ipt_groups.messaging.workers import beat, recover_dead_claims, scheduler_state
from ipt_groups.models import Message, SchedulerWorker
from ipt_groups.worker import Dispatcher, lease, tick

NOON_CHICAGO = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
LEASE = timedelta(seconds=45)


@pytest.fixture
def member(make_member):
    return make_member(0)


def _plan(member, n: int, kind: str = "custom") -> None:
    plan_messages(
        [
            {
                "dedupe_key": f"w:{kind}:{i}",
                "kind": kind,
                "member_id": member.id,
                "due_at": NOON_CHICAGO,
                "context": {"body": f"hello {i}"},
            }  # fmt: skip
            for i in range(n)
        ]
    )
    _db.session.commit()


def _states() -> dict[str, str]:
    return {m.dedupe_key: (m.state, m.claimed_by) for m in Message.query}


def test_the_leader_recovers_a_dead_process_claims_and_leaves_a_live_ones(db, member):
    _plan(member, 4)
    beat("alive", NOON_CHICAGO)
    beat("dead", NOON_CHICAGO - timedelta(minutes=5))
    _db.session.commit()
    live_ids = claim_due(NOON_CHICAGO, "alive", 2)
    dead_ids = claim_due(NOON_CHICAGO, "dead", 1)
    never_ids = claim_due(NOON_CHICAGO, "never-beat", 1)  # a process that never registered is dead too
    assert recover_dead_claims(NOON_CHICAGO, LEASE) == (2, 0)
    by_id = {m.id: (m.state, m.claimed_by) for m in Message.query}
    assert [by_id[i] for i in live_ids] == [("sending", "alive")] * 2
    assert [by_id[i][0] for i in dead_ids + never_ids] == ["pending", "pending"]


def test_a_process_is_dead_once_its_beat_is_older_than_the_lease(db, member):
    _plan(member, 1)
    beat("slow", NOON_CHICAGO - LEASE + timedelta(seconds=1))
    _db.session.commit()
    claim_due(NOON_CHICAGO, "slow", 1)
    assert recover_dead_claims(NOON_CHICAGO, LEASE) == (0, 0)
    assert recover_dead_claims(NOON_CHICAGO + timedelta(seconds=2), LEASE) == (1, 0)


def test_a_dead_process_send_that_had_begun_is_unknown_not_resent(db, member):
    _plan(member, 1)
    claim_due(NOON_CHICAGO, "dead", 1)
    Message.query.one().send_started_at = NOON_CHICAGO
    _db.session.commit()
    assert recover_dead_claims(NOON_CHICAGO, LEASE) == (0, 1)
    assert Message.query.one().state == "unknown"


def test_a_leading_tick_beats_and_recovers_and_a_follower_tick_only_beats(app, db, member):
    _plan(member, 2)
    claim_due(NOON_CHICAGO, "gone", 2)  # a process that died holding two claims
    follower = tick(app, RecordingSender(), None, "f", NOON_CHICAGO, lead=False)
    assert follower.claimed == 0 and [s for s, _ in _states().values()] == ["sending"] * 2
    sender = RecordingSender()
    leader = tick(app, sender, None, "l", NOON_CHICAGO)
    assert leader.by_outcome == {"sent": 2} and len(sender.sent) == 2
    rows = {w.worker: w for w in SchedulerWorker.query}
    assert rows["l"].leader_since == NOON_CHICAGO and rows["f"].leader_since is None
    assert rows["l"].ticked_at == rows["f"].ticked_at == NOON_CHICAGO


def test_leadership_is_kept_from_beat_to_beat_and_dropped_by_a_follower_beat(db):
    beat("p", NOON_CHICAGO, leader=True)
    beat("p", NOON_CHICAGO + timedelta(seconds=15), leader=True)
    _db.session.commit()
    assert SchedulerWorker.query.one().leader_since == NOON_CHICAGO  # since when, not last time
    beat("p", NOON_CHICAGO + timedelta(seconds=30), leader=False)
    _db.session.commit()
    assert SchedulerWorker.query.one().leader_since is None


def test_the_heartbeat_job_takes_the_lock_and_beats(app, db):
    clock = [NOON_CHICAGO]
    first = Dispatcher(app, RecordingSender(), None, "first", clock=lambda: clock[0])
    second = Dispatcher(app, RecordingSender(), None, "second", clock=lambda: clock[0])
    first_lock, second_lock = Leadership(app), Leadership(app)
    try:
        assert first.keep_alive(first_lock) is True and second.keep_alive(second_lock) is False
        state = scheduler_state(NOON_CHICAGO, lease(app))
        assert (state["processes"], state["heartbeat_age_s"]) == (2, 0.0)
        first_lock.release()  # the leader stops
        clock[0] += timedelta(seconds=15)
        assert second.keep_alive(second_lock) is True  # within one tick interval
    finally:
        first_lock.release()
        second_lock.release()
    assert scheduler_state(clock[0], lease(app))["heartbeat_age_s"] == 0.0


def test_a_tick_by_hand_leaves_no_heartbeat_behind(runner):
    """`ipt tick` is a one-off: its row must not pass for a running scheduler's (readiness)."""
    result = runner.invoke(args=["ipt", "tick"])
    assert result.exit_code == 0 and result.output.startswith("claimed 0")
    assert SchedulerWorker.query.count() == 0


def test_a_standbys_tick_tries_the_lock_first_so_the_dead_leaders_work_waits_one_tick(app, db, member):
    plan_messages([{"dedupe_key": "late", "kind": "custom", "member_id": member.id, "context": {"body": "x"},
                    "due_at": NOON_CHICAGO, "deadline_at": NOON_CHICAGO + timedelta(minutes=1)}])  # fmt: skip
    _db.session.commit()
    first = Dispatcher(app, RecordingSender(), None, "first", clock=lambda: NOON_CHICAGO)
    second = Dispatcher(app, RecordingSender(), None, "second", clock=lambda: NOON_CHICAGO)
    first_lock, second_lock = Leadership(app), Leadership(app)
    try:
        first.keep_alive(first_lock)
        second.keep_alive(second_lock)
        first_lock.release()  # the leader dies between two heartbeats
        stats = second.scheduled_tick()  # the tick job comes first: it takes the lock and leads this tick
    finally:
        second_lock.release()
    assert second.leading and stats.expired == 1  # the sweep only a leader runs (the tick's clock is now)
