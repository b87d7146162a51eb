"""The scheduler processes' registry: every process beats each tick interval, the one holding the
lock is marked leader, and the claims of a process whose beat is older than the lease are recovered
by the leader. A live process's claims are never taken: its beat is fresh."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update

from ipt_groups.extensions import db
from ipt_groups.messaging.outbox import settle_claims
from ipt_groups.models import Message, SchedulerWorker

FORGET_AFTER = timedelta(days=1)  # a dead process's row is kept this long, for the record


def beat(worker: str, now: datetime, *, leader: bool | None = None, ticked: bool = False) -> None:
    """Say `worker` is alive at `now` (and, with `ticked`, that it starts a tick; with `leader`, whether
    it holds the lock); the caller commits."""
    values: dict = {"beat_at": now}
    if ticked:
        values["ticked_at"] = now
    if leader is not None:
        values["leader_since"] = func.coalesce(SchedulerWorker.leader_since, now) if leader else None
    done = db.session.execute(
        update(SchedulerWorker).where(SchedulerWorker.worker == worker).values(**values)
    ).rowcount
    if not done:  # one process per worker id, so no other insert races this one
        leader_since = now if leader else None
        row = {"worker": worker, "started_at": now, "beat_at": now, "leader_since": leader_since}
        db.session.execute(insert(SchedulerWorker).values(**row, ticked_at=now if ticked else None))


def live_workers(now: datetime, lease: timedelta):
    """A subquery of the processes whose beat is younger than the lease."""
    return select(SchedulerWorker.worker).where(SchedulerWorker.beat_at > now - lease)


def recover_dead_claims(now: datetime, lease: timedelta) -> tuple[int, int]:
    """Settle the rows claimed by processes that stopped beating (as recovery after a crash does:
    requeued, or `unknown` if the send had begun; safety texts requeued); returns (requeued, unknown)."""
    dead = Message.claimed_by.is_(None) | Message.claimed_by.not_in(live_workers(now, lease))
    return settle_claims([Message.state == "sending", dead])


def forget_dead(now: datetime) -> int:
    """Drop the rows of processes dead for a day."""
    old = SchedulerWorker.beat_at < now - FORGET_AFTER
    return db.session.execute(delete(SchedulerWorker).where(old)).rowcount


def resign(worker: str) -> None:
    """A process stopping on purpose: its row goes, so readiness stops counting it at once."""
    db.session.execute(delete(SchedulerWorker).where(SchedulerWorker.worker == worker))


def scheduler_state(now: datetime, lease: timedelta) -> dict:
    """What readiness reports: live processes, the leader's beat and the last tick's start, in seconds."""
    live = db.session.scalar(select(func.count()).where(SchedulerWorker.beat_at > now - lease))
    leader_beat = db.session.scalar(
        select(func.max(SchedulerWorker.beat_at)).where(SchedulerWorker.leader_since.is_not(None))
    )
    last_tick = db.session.scalar(select(func.max(SchedulerWorker.ticked_at)))
    return {
        "processes": live,
        "heartbeat_age_s": _age(now, leader_beat),
        "last_tick_age_s": _age(now, last_tick),
    }


def _age(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else round((now - then).total_seconds(), 1)
