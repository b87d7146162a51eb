"""The scheduler process: APScheduler only ticks. Every `flask ipt scheduler` process dispatches (claims
are atomic, so they never send a row twice); the work that must run once (expiry, closing check-ins,
escalations, recovery of dead processes' claims) runs in whichever process holds the lock (leader.py),
tried every tick interval, so another takes over within two ticks when the holder dies. Each process
beats in the database every tick interval, from a job of its own (a long tick does not silence it):
readiness reads the leader's beat, and the leader recovers only the claims of processes that stopped
beating. On PostgreSQL a listener thread in each process wakes it as soon as a safety text is
committed, for a safety-only dispatch that never overlaps a tick (during a tick, it is served between
two sends). On SQLite only the lock holder dispatches (one writer at a time; the others stand by)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask, current_app

from ipt_groups import metrics, signin
from ipt_groups.checkins import screening
from ipt_groups.checkins import sending as checkin_sending
from ipt_groups.checkins.escalation import escalate_due
from ipt_groups.cycles.operations import quiet_hours
from ipt_groups.extensions import db
from ipt_groups.formation import invitations, seats
from ipt_groups.leader import Leadership
from ipt_groups.logs import log_context
from ipt_groups.messaging import make_sender
from ipt_groups.messaging.dispatch import Between, DispatchSettings, run_safety, run_tick
from ipt_groups.messaging.languages import catalogues
from ipt_groups.messaging.outbox import TickStats, release_own_claims
from ipt_groups.messaging.pacing import make_pacer
from ipt_groups.messaging.wakeup import SafetyListener
from ipt_groups.messaging.workers import beat, forget_dead, recover_dead_claims, resign
from ipt_groups.settings.programme import message_texts

log = logging.getLogger(__name__)


# The leader's work besides expiry: close check-ins, decide screens, settle invitations (in that
# order: a screen's check-in closes before the screen is decided).
ON_TICK = (*checkin_sending.ON_TICK, *screening.ON_TICK, *invitations.ON_TICK, *seats.ON_TICK)


def worker_id() -> str:
    """Who claims rows: host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def dispatch_settings(worker: str, lead: bool = True) -> DispatchSettings:
    """The tick's settings from the app's config; `lead`: this process does the work that runs once."""
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
        on_tick=ON_TICK,
        lead=lead,
        clock=lambda: datetime.now(UTC),
    )


def lease(app: Flask) -> timedelta:
    """A process that has not beaten for three tick intervals is dead: its claims are recovered."""
    return timedelta(seconds=3 * app.config["SCHEDULER_TICK_SECONDS"])


def tick(
    app: Flask,
    sender,
    pacer,
    worker: str,
    now: datetime | None = None,
    lead: bool = True,
    between: Between | None = None,
):
    """One tick inside an app context; errors are logged and the next tick tries again. A leading
    tick (`lead`) also recovers dead processes' claims and does the work that runs once."""
    now = now or datetime.now(UTC)
    with app.app_context(), log_context(f"tick-{uuid.uuid4().hex[:12]}"), metrics.timed_tick(lead):
        try:
            beat(worker, now, ticked=True, leader=lead)
            # Ticks of one process never overlap, so rows still claimed by this worker were left by a
            # tick that failed midway (e.g. PostgreSQL restarted); without this they wait for a restart.
            release_own_claims(worker)
            if lead:
                _recover(app, now)
            stats = _dispatch(sender, pacer, worker, now, between, lead)
        except Exception:
            db.session.rollback()
            metrics.TICK_FAILURES.inc()
            log.exception("dispatcher tick failed; the next tick will try again")
            return None
        finally:
            db.session.remove()
        if stats.claimed or stats.expired:
            log.info("tick: %s claimed, %s expired, %s", stats.claimed, stats.expired, stats.by_outcome)
        return stats


def _recover(app: Flask, now: datetime) -> None:
    requeued, unknown = recover_dead_claims(now, lease(app))
    forget_dead(now)
    db.session.commit()
    if requeued or unknown:
        log.warning("recovered a stopped scheduler's claims: %s requeued, %s unknown", requeued, unknown)


def _dispatch(sender, pacer, worker: str, now: datetime, between: Between | None, lead: bool) -> TickStats:
    """Escalate what is due (leader), send everything due, then escalate at once what a safety text
    refused for good in this tick brought forward, and send that round too."""
    if lead:
        escalate_due(now)
        db.session.commit()
    settings = dispatch_settings(worker, lead)
    stats = run_tick(sender, now, settings, pacer, between)
    if lead and escalate_due(now):
        db.session.commit()
        stats.add(run_safety(sender, now, settings, pacer))
    return stats


def safety_run(sender, pacer, worker: str, now: datetime, lead: bool = True) -> TickStats:
    """The safety lane alone, inside an app context: escalations due (the leader's) and safety texts
    due (any process sends them)."""
    if lead:
        escalate_due(now)
        db.session.commit()
    return run_safety(sender, now, dispatch_settings(worker, lead), pacer)


class Dispatcher:
    """One scheduler process: its heartbeat and leadership, its ticks, and the safety runs a wake-up
    asks for. One lock keeps ticks and safety runs from overlapping (a tick settles its worker's
    leftover claims, which must not be a safety run's in flight); a wake-up during a tick is served
    inside it, between two sends, and never blocks the listener."""

    def __init__(self, app: Flask, sender, pacer, worker: str, clock: Callable[[], datetime] | None = None):
        self.app, self.sender, self.pacer, self.worker = app, sender, pacer, worker
        self.clock = clock or (lambda: datetime.now(UTC))
        self.lock, self.woken = threading.Lock(), threading.Event()
        # Inside a tick, any sending thread serves a wake-up at its next gap, several at once: a safety
        # run lasts as long as its slowest text (a provider failing, the adapter waiting to try again),
        # and the alerts committed meanwhile must not wait for it (claims keep the runs' texts apart).
        self.serving = threading.BoundedSemaphore(max(1, int(app.config["DISPATCH_THREADS"])))
        self.leading, self.leadership, self.trying = False, None, threading.Lock()
        with app.app_context():
            # SQLite has one writer at a time: a process that does not lead stands by.
            self.followers_dispatch = db.engine.dialect.name == "postgresql"

    def keep_alive(self, leadership: Leadership) -> bool:
        """Every tick interval, in a job of its own: take or keep the lock, beat, and wake the safety
        lane (escalations and safety retries due)."""
        self.leadership = leadership
        with self.trying:  # the tick job tries too (below): one connection, one caller at a time
            leading = leadership.hold()
        if leading != self.leading:
            log.warning("scheduler %s %s", self.worker, "now leads" if leading else "no longer leads")
        self.leading = leading
        metrics.LEADER.set(1 if leading else 0)
        with self.app.app_context():
            try:
                beat(self.worker, self.clock(), leader=leading)
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("cannot write the heartbeat; the next beat will try again")
            finally:
                db.session.remove()
        if leading or self.followers_dispatch:
            # The safety lane every beat, even inside a long tick (served between two sends): an
            # escalation that came due, or a safety text whose retry came due, waits at most one
            # interval, not for the end of a tick that sends a backlog of reminders.
            self.wake("heartbeat")
        return leading

    def scheduled_tick(self):
        """The tick job: a leader's tick, a follower's (PostgreSQL), or nothing (SQLite standby). A
        follower tries the lock first, so a dead leader's work waits one tick, not two."""
        if not self.leading and self.leadership is not None:
            self.keep_alive(self.leadership)
        if self.leading or self.followers_dispatch:
            return self.tick(lead=self.leading)
        return None

    def tick(self, now: datetime | None = None, lead: bool = True):
        """One tick (see `tick`), serving wake-ups between its sends, and any that came after its
        last send, once it is over."""
        try:
            with self.lock:
                return tick(self.app, self.sender, self.pacer, self.worker, now, lead, self._between)
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
        # Called by every sending thread of a tick: one serves a wake-up, the others carry on (or serve
        # the next wake-up while that one's safety run is still sending).
        self._serve_holding(self.serving)

    def _serve_holding(self, lock: threading.Lock | threading.BoundedSemaphore) -> bool:
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
                stats = safety_run(self.sender, self.pacer, self.worker, self.clock(), self.leading)
                log.info("safety wake-up: %s claimed, %s", stats.claimed, stats.by_outcome)
            except Exception:
                db.session.rollback()
                log.exception("safety dispatch failed; the next tick will try again")
            finally:
                db.session.remove()


def run_scheduler(app: Flask) -> None:
    """Block, beating and ticking every SCHEDULER_TICK_SECONDS (and, on PostgreSQL, dispatching safety
    texts as soon as they are committed), until SIGINT, SIGTERM or SIGHUP."""
    worker = worker_id()
    leadership = Leadership(app)
    dispatcher = Dispatcher(app, make_sender(app.config), make_pacer(app.config), worker)
    metrics.serve_scheduler_metrics(app.config)
    dispatcher.keep_alive(leadership)
    log.info("scheduler %s started (%s)", worker, "leading" if dispatcher.leading else "standing by")
    with app.app_context():
        listener = _listener(dispatcher)
    scheduler = BlockingScheduler(timezone=UTC)
    _add_jobs(scheduler, app.config["SCHEDULER_TICK_SECONDS"], dispatcher, leadership)
    # SIGTERM (a supervisor) and SIGHUP (a closed terminal) stop the loop between ticks, like Ctrl-C.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: scheduler.shutdown(wait=False))
    try:
        with suppress(KeyboardInterrupt, SystemExit):
            scheduler.start()
    finally:
        _stop(app, dispatcher, leadership, listener)


def _add_jobs(scheduler: BlockingScheduler, every: int, dispatcher: Dispatcher, leadership: Leadership):
    start = datetime.now(UTC)
    options = {"trigger": "interval", "seconds": every, "coalesce": True, "max_instances": 1}
    scheduler.add_job(dispatcher.keep_alive, args=[leadership], id="heartbeat", **options)
    scheduler.add_job(dispatcher.scheduled_tick, id="dispatch", next_run_time=start, **options)


def _stop(app: Flask, dispatcher: Dispatcher, leadership: Leadership, listener) -> None:
    """Let the running tick finish its sends, then leave: the lock freed, the heartbeat row gone."""
    if listener is not None:
        listener.stop()
        listener.join(timeout=5)
    with dispatcher.lock:
        with app.app_context():
            resign(dispatcher.worker)
            db.session.commit()
            db.session.remove()
        leadership.release()
    log.info("scheduler %s stopped", dispatcher.worker)


def _listener(dispatcher: Dispatcher) -> SafetyListener | None:
    """On PostgreSQL, a thread that wakes the dispatcher for every safety text committed."""
    if db.engine.dialect.name != "postgresql":
        return None  # SQLite: the tick is the mechanism
    listener = SafetyListener(db.engine.url, dispatcher.wake)
    listener.start()
    return listener
