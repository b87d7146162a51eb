"""The scheduler process: APScheduler only ticks. It runs in one process of its own
(`flask ipt scheduler`), holds a singleton lock, and each tick escalates unacknowledged safety
alerts and hands due outbox rows to the SMS adapter, safety texts first. On PostgreSQL a listener
thread wakes it as soon as a safety text is committed, for a safety-only dispatch that never
overlaps a tick (during a tick, it is served between two sends). A second scheduler started by
mistake cannot take the lock; even if it could, the atomic claim would keep it from sending a row
twice."""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from contextlib import contextmanager, suppress
from datetime import UTC, datetime

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask, current_app
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ipt_groups import signin
from ipt_groups.checkins import sending as checkin_sending
from ipt_groups.checkins.escalation import escalate_due
from ipt_groups.cycles.operations import quiet_hours
from ipt_groups.extensions import db
from ipt_groups.messaging import make_sender
from ipt_groups.messaging.dispatch import Between, DispatchSettings, run_safety, run_tick
from ipt_groups.messaging.languages import catalogues
from ipt_groups.messaging.outbox import TickStats, recover_interrupted, release_own_claims
from ipt_groups.messaging.pacing import make_pacer
from ipt_groups.messaging.wakeup import SafetyListener
from ipt_groups.settings.programme import message_texts

log = logging.getLogger(__name__)
ADVISORY_LOCK_KEY = 0x1F7_6090  # any constant shared by every scheduler of this database


class AlreadyRunning(RuntimeError):
    """Another scheduler holds the lock."""


class SchedulerLock:
    """The scheduler's singleton lock: a PostgreSQL advisory lock on a connection of its own, or an
    exclusive file lock beside the SQLite database. A PostgreSQL restart ends the session that held
    it, so `ensure` (called before every tick) checks it and takes it again, or raises AlreadyRunning
    if another scheduler got it meanwhile."""

    _HELD = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = :k "
        "AND objsubid = 1 AND pid = pg_backend_pid() AND granted"
    )

    def __init__(self, app: Flask):
        self.app, self.conn, self.handle, self.advisory = app, None, None, False

    def acquire(self) -> None:
        """Take the lock or raise AlreadyRunning."""
        with self.app.app_context():
            if db.engine.dialect.name == "postgresql":
                self.advisory = True
                conn = db.engine.connect()
                try:
                    _advisory_lock(conn)
                except BaseException:
                    conn.close()
                    raise
                self.conn = conn
                return
        self.handle = open(os.path.join(self.app.instance_path, "scheduler.lock"), "w")  # noqa: SIM115
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self.handle.close()
            raise AlreadyRunning("another scheduler holds instance/scheduler.lock") from exc

    def ensure(self) -> None:
        """Still ours? If the lock's connection died, take the lock again (AlreadyRunning if taken)."""
        if not self.advisory:
            return
        held = 0
        if self.conn is not None:
            try:
                held = self.conn.execute(self._HELD, {"k": ADVISORY_LOCK_KEY}).scalar()
                self.conn.commit()
            except DBAPIError:
                held = 0
        if not held:
            log.warning("the scheduler lock's connection was lost; taking the lock again")
            if self.conn is not None:
                self._drop_connection()
            self.acquire()

    def release(self) -> None:
        """Give the lock back (a dead connection has already given it back)."""
        if self.conn is not None:
            try:
                self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
                self.conn.commit()
            except DBAPIError:
                pass
            self._drop_connection()
        if self.handle is not None:
            self.handle.close()
            self.handle = None

    def _drop_connection(self) -> None:
        try:
            self.conn.invalidate()  # never back to the pool: it may be dead, or still hold the lock
            self.conn.close()
        except DBAPIError:
            pass
        self.conn = None


@contextmanager
def singleton_lock(app: Flask):
    """Hold the scheduler lock for the life of the block."""
    lock = SchedulerLock(app)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()


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
        catalogues=catalogues(),
        threads=config["DISPATCH_THREADS"],
        budget_s=config["SCHEDULER_TICK_SECONDS"] * 0.8,
        programme=config["PROGRAMME_NAME"],
        kinds={**checkin_sending.KINDS, **signin.KINDS},
        on_tick=checkin_sending.ON_TICK,
    )


def tick(
    app: Flask,
    sender,
    pacer,
    worker: str,
    now: datetime | None = None,
    lock: SchedulerLock | None = None,
    between: Between | None = None,
):
    """One tick inside an app context; errors are logged and the next tick tries again. With `lock`,
    the tick first makes sure this process still holds the scheduler lock."""
    if lock is not None:
        try:
            lock.ensure()  # AlreadyRunning propagates: the caller stops this scheduler
        except DBAPIError:
            log.exception("cannot check the scheduler lock (database unreachable); skipping this tick")
            return None
    with app.app_context():
        try:
            # Ticks of one process never overlap, so rows still claimed by this worker were left by a
            # tick that failed midway (e.g. PostgreSQL restarted); without this they wait for a restart.
            release_own_claims(worker)
            stats = _dispatch(sender, pacer, worker, now or datetime.now(UTC), between)
        except Exception:
            db.session.rollback()
            log.exception("dispatcher tick failed; the next tick will try again")
            return None
        finally:
            db.session.remove()
        if stats.claimed or stats.expired:
            log.info("tick: %s claimed, %s expired, %s", stats.claimed, stats.expired, stats.by_outcome)
        return stats


def _dispatch(sender, pacer, worker: str, now: datetime, between: Between | None) -> TickStats:
    """Escalate what is due, send everything due, then escalate at once what a safety text refused
    for good in this tick brought forward, and send that round too."""
    escalate_due(now)
    db.session.commit()
    settings = dispatch_settings(worker)
    stats = run_tick(sender, now, settings, pacer, between)
    if escalate_due(now):
        db.session.commit()
        stats.add(run_safety(sender, now, settings, pacer))
    return stats


def safety_run(sender, pacer, worker: str, now: datetime) -> TickStats:
    """The safety lane alone, inside an app context: escalations due and safety texts due."""
    escalate_due(now)
    db.session.commit()
    return run_safety(sender, now, dispatch_settings(worker), pacer)


class Dispatcher:
    """One scheduler process's sending: its ticks, and the safety runs a wake-up asks for. One lock
    keeps them from overlapping (a tick settles its worker's leftover claims, which must not be a
    safety run's in flight); a wake-up during a tick is served inside it, between two sends, and
    never blocks the listener."""

    def __init__(self, app: Flask, sender, pacer, worker: str, clock: Callable[[], datetime] | None = None):
        self.app, self.sender, self.pacer, self.worker = app, sender, pacer, worker
        self.clock = clock or (lambda: datetime.now(UTC))
        self.lock, self.serving, self.woken = threading.Lock(), threading.Lock(), threading.Event()

    def tick(self, now: datetime | None = None, lock: SchedulerLock | None = None):
        """One tick (see `tick`), serving wake-ups between its sends, and any that came after its
        last send, once it is over."""
        try:
            with self.lock:
                return tick(self.app, self.sender, self.pacer, self.worker, now, lock, self._between)
        finally:
            self._serve_pending()

    def wake(self, payload: str | None = None) -> None:
        """A safety text was committed (`payload`: its id, or what asked): send it now or, while a
        tick runs, leave it to the tick's next gap between two sends (or its end) and return at once,
        so the listener goes on reading notifications instead of waiting for the tick to end."""
        self.woken.set()
        self._serve_pending()

    def _serve_pending(self) -> None:
        # Whoever holds the lock serves a wake-up set before it let go: a wake-up that finds the lock
        # taken has set `woken` first, so the holder sees it (between two sends, or right here).
        while self._serve_holding(self.lock):
            pass

    def _between(self) -> None:
        # Called by every sending thread of a tick: one serves, the others carry on.
        self._serve_holding(self.serving)

    def _serve_holding(self, lock: threading.Lock) -> bool:
        """Serve a pending wake-up if `lock` is free (taken for the while); False if not served."""
        if not (self.woken.is_set() and lock.acquire(blocking=False)):
            return False
        try:
            self._serve()
        finally:
            lock.release()
        return True

    def _serve(self) -> None:
        if not self.woken.is_set():
            return
        self.woken.clear()
        with self.app.app_context():
            try:
                stats = safety_run(self.sender, self.pacer, self.worker, self.clock())
                log.info("safety wake-up: %s claimed, %s", stats.claimed, stats.by_outcome)
            except Exception:
                db.session.rollback()
                log.exception("safety dispatch failed; the next tick will try again")
            finally:
                db.session.remove()


def run_scheduler(app: Flask) -> None:
    """Block, ticking every SCHEDULER_TICK_SECONDS (and, on PostgreSQL, dispatching safety texts as
    soon as they are committed), until interrupted."""
    worker = worker_id()
    with singleton_lock(app) as lock:
        with app.app_context():
            requeued, unknown = recover_interrupted(datetime.now(UTC), worker)
            log.info("scheduler %s started; recovered %s requeued, %s unknown", worker, requeued, unknown)
            dispatcher = Dispatcher(app, make_sender(app.config), make_pacer(app.config), worker)
            listener = _listener(dispatcher)
        scheduler = BlockingScheduler(timezone=UTC)
        lost = []

        def job() -> None:
            try:
                dispatcher.tick(lock=lock)
            except AlreadyRunning as exc:
                log.error("another scheduler holds the lock now; this one stops")
                lost.append(exc)
                scheduler.shutdown(wait=False)

        scheduler.add_job(
            job,
            "interval",
            seconds=app.config["SCHEDULER_TICK_SECONDS"],
            id="dispatch",
            coalesce=True,
            max_instances=1,
            next_run_time=datetime.now(UTC),
        )
        # SIGTERM (a supervisor, or `make run` on Ctrl-C) stops the loop between ticks, like Ctrl-C.
        signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
        try:
            with suppress(KeyboardInterrupt, SystemExit):
                scheduler.start()
        finally:
            if listener is not None:
                listener.stop()
                listener.join(timeout=5)
        log.info("scheduler stopped")
        if lost:
            raise lost[0]


def _listener(dispatcher: Dispatcher) -> SafetyListener | None:
    """On PostgreSQL, a thread that wakes the dispatcher for every safety text committed."""
    if db.engine.dialect.name != "postgresql":
        return None  # SQLite: the tick is the mechanism
    listener = SafetyListener(db.engine.url, dispatcher.wake)
    listener.start()
    return listener
