"""The scheduler process: APScheduler only ticks. It runs in one process of its own
(`flask ipt scheduler`), holds a singleton lock, and each tick hands due outbox rows to the SMS
adapter. A second scheduler started by mistake cannot take the lock; even if it could, the atomic
claim would keep it from sending a row twice."""

from __future__ import annotations

import fcntl
import logging
import os
import socket
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask, current_app
from sqlalchemy import text

from ipt_groups.extensions import db
from ipt_groups.messaging import make_sender
from ipt_groups.messaging.dispatch import DispatchSettings, run_tick
from ipt_groups.messaging.outbox import recover_interrupted, release_own_claims
from ipt_groups.messaging.pacing import make_pacer
from ipt_groups.programme import message_texts
from ipt_groups.scheduling import quiet_hours

log = logging.getLogger(__name__)
ADVISORY_LOCK_KEY = 0x1F7_6090  # any constant shared by every scheduler of this database
LEASE = timedelta(minutes=15)


class AlreadyRunning(RuntimeError):
    """Another scheduler holds the lock."""


@contextmanager
def singleton_lock(app: Flask):
    """Hold the scheduler lock for the life of the block: a PostgreSQL advisory lock on a connection
    of its own, or an exclusive file lock beside the SQLite database."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:
                _advisory_lock(conn)
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
                    conn.commit()
            return
    with open(os.path.join(app.instance_path, "scheduler.lock"), "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise AlreadyRunning("another scheduler holds instance/scheduler.lock") from exc
        yield


def _advisory_lock(conn) -> None:
    if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}).scalar():
        conn.rollback()
        raise AlreadyRunning("another scheduler holds the PostgreSQL advisory lock")
    conn.commit()  # keep the session-level lock, end the transaction


def worker_id() -> str:
    """Who claims rows: host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def dispatch_settings(worker: str) -> DispatchSettings:
    """The tick's settings from the app's config."""
    config = current_app.config
    base = config.get("PUBLIC_BASE_URL", "").rstrip("/")
    return DispatchSettings(
        worker=worker,
        batch=config["DISPATCH_BATCH_SIZE"],
        quiet=quiet_hours(),
        status_callback=f"{base}/twilio/status" if base else None,
        texts=message_texts(),
        threads=config["DISPATCH_THREADS"],
        budget_s=config["SCHEDULER_TICK_SECONDS"] * 0.8,
        programme=config["PROGRAMME_NAME"],
    )


def tick(app: Flask, sender, pacer, worker: str, now: datetime | None = None):
    """One tick inside an app context; errors are logged and the next tick tries again."""
    with app.app_context():
        try:
            # Ticks of one process never overlap, so rows still claimed by this worker were left by a
            # tick that failed midway (e.g. PostgreSQL restarted); without this they wait for a restart.
            release_own_claims(worker)
            stats = run_tick(sender, now or datetime.now(UTC), dispatch_settings(worker), pacer)
        except Exception:
            db.session.rollback()
            log.exception("dispatcher tick failed; the next tick will try again")
            return None
        finally:
            db.session.remove()
        if stats.claimed or stats.expired:
            log.info("tick: %s claimed, %s expired, %s", stats.claimed, stats.expired, stats.by_outcome)
        return stats


def run_scheduler(app: Flask) -> None:
    """Block, ticking every SCHEDULER_TICK_SECONDS, until interrupted."""
    worker = worker_id()
    with singleton_lock(app):
        with app.app_context():
            requeued, unknown = recover_interrupted(datetime.now(UTC), worker)
            log.info("scheduler %s started; recovered %s requeued, %s unknown", worker, requeued, unknown)
            sender, pacer = make_sender(app.config), make_pacer(app.config)
        scheduler = BlockingScheduler(timezone=UTC)
        scheduler.add_job(
            tick,
            "interval",
            seconds=app.config["SCHEDULER_TICK_SECONDS"],
            args=(app, sender, pacer, worker),
            id="dispatch",
            coalesce=True,
            max_instances=1,
            next_run_time=datetime.now(UTC),
        )
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            log.info("scheduler stopped")
