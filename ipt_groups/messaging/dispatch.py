"""One dispatcher tick: expire what is too late, claim what is due (safety texts first), send each
after its claim is committed, and record every outcome with its reason."""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import datetime

from flask import current_app
from sqlalchemy import select, text

from ipt_groups import metrics
from ipt_groups.extensions import db
from ipt_groups.messaging.base import (
    PermanentSendError,
    RetryableSendError,
    Sender,
    SendError,
    UnknownOutcomeError,
    for_safety,
    mask_phone,
    mask_phones,
)
from ipt_groups.messaging.catalogue import Catalogues
from ipt_groups.messaging.content import compose
from ipt_groups.messaging.outbox import (
    MAX_ATTEMPTS,
    QUIET_EXEMPT,
    RETRY_DELAY,
    TickStats,
    claim_due,
    claim_safety,
    expire_overdue,
    safety_retry_delay,
)
from ipt_groups.messaging.recipients import Recipient, resolve_recipient
from ipt_groups.messaging.refusals import apply_permanent_failure
from ipt_groups.messaging.segments import measure
from ipt_groups.messaging.timing import QuietHours, defer_out_of_quiet, in_quiet_hours
from ipt_groups.models import Message
from ipt_groups.models.message import SAFETY_KINDS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KindHandler:
    """What a capability does with a message kind of its own: messaging knows no capability, so the
    worker hands it a table of these (a check-in opens its conversation when it is sent)."""

    compose: Callable[[Message, datetime], str]  # when sent: the body, after any side effect it needs
    preview: Callable[[Message], str]  # the body a coordinator's preview shows, with no side effect
    secret: bool = False  # the sent body holds a secret (a sign-in code): the outbox keeps the preview


@dataclass(frozen=True)
class DispatchSettings:
    """What a tick needs besides the clock and the sender."""

    worker: str
    batch: int
    quiet: QuietHours
    status_callback: str | None = None
    texts: dict | None = None  # the programme's own texts, by language then key
    programme: str = ""
    catalogues: Catalogues | None = None  # None: the shipped catalogues
    threads: int = 1  # parallel senders (PostgreSQL); one recipient's messages stay on one thread
    budget_s: float = 0.0  # keep claiming batches for this long while whole batches come back
    kinds: Mapping[str, KindHandler] = field(default_factory=dict)  # kinds a capability composes itself
    on_tick: tuple[Callable[[datetime], object], ...] = ()  # run before each tick's claims (expiry)
    lead: bool = True  # this process does the work that runs once: expiry and the on_tick hooks
    clock: Callable[[], datetime] | None = None  # the wall clock, for lateness; none: the tick's `now`


# Safety texts sent at once (PostgreSQL): a few texts per alert, each its own request to the provider.
SAFETY_THREADS = 16
# How often a tick waiting for its sending threads looks for a safety wake-up to serve (seconds).
WAIT_SERVING_S = 0.05

Between = Callable[[], None]  # called between two sends: the scheduler serves a safety wake-up there


def run_tick(
    sender: Sender, now: datetime, settings: DispatchSettings, pacer=None, between: Between | None = None
) -> TickStats:
    """Expire, claim and send everything due at `now`, safety texts first in every batch; each
    outcome is committed on its own."""
    stats = TickStats()
    if settings.lead:
        stats.expired = expire_overdue(now)
        for hook in settings.on_tick:
            hook(now)
        db.session.commit()
    until = time.monotonic() + settings.budget_s
    while True:
        _send_safety(sender, now, settings, pacer, stats)
        ids = claim_due(now, settings.worker, settings.batch)
        stats.claimed += len(ids)
        for outcome in _deliver_all(ids, sender, now, settings, pacer, between):
            stats.count(outcome)
        if len(ids) < settings.batch or time.monotonic() >= until:
            return stats


def run_safety(sender: Sender, now: datetime, settings: DispatchSettings, pacer=None) -> TickStats:
    """The priority lanes alone: claim and send every safety text, then every sign-in code, due at
    `now` (a wake-up's dispatch)."""
    stats = TickStats()
    _send_safety(sender, now, settings, pacer, stats)
    return stats


def _send_safety(sender, now: datetime, settings: DispatchSettings, pacer, stats: TickStats) -> None:
    """The safety lane, then the urgent lane (sign-in codes a person is waiting for). On PostgreSQL
    the claimed texts go out at once, each on a thread of its own (up to SAFETY_THREADS, or `threads`
    if more): a text whose provider answers slowly or fails (the adapter waits before it tries
    again) holds up no other alert's texts; and the adapter waits less between attempts (`for_safety`)."""
    sender = for_safety(sender)
    for lane in ("safety", "urgent"):
        while True:
            ids = claim_safety(now, settings.worker, settings.batch, lane)
            stats.claimed += len(ids)
            if _parallel(ids, settings):
                each = replace(settings, threads=max(settings.threads, SAFETY_THREADS))
                outcomes = _in_lanes([[i] for i in ids], sender, now, each, pacer, None)
            else:
                outcomes = [deliver(i, sender, now, settings, pacer) for i in ids]
            for outcome in outcomes:
                stats.count(outcome)
            if len(ids) < settings.batch:
                break


def _parallel(ids: list[int], settings: DispatchSettings) -> bool:
    return settings.threads > 1 and len(ids) > 1 and db.engine.dialect.name == "postgresql"


def _deliver_all(ids: list[int], sender, now: datetime, settings: DispatchSettings, pacer, between) -> list:
    if not _parallel(ids, settings):
        return [_deliver_after(between, i, sender, now, settings, pacer) for i in ids]
    return _in_lanes(_lanes(ids, settings), sender, now, settings, pacer, between)


def _in_lanes(lanes: list[list[int]], sender, now: datetime, settings: DispatchSettings, pacer, between):
    """Deliver each lane in order, `settings.threads` lanes at once; the outcomes, lane by lane. While
    it waits for the lanes, this thread serves wake-ups too (`between`): when every lane but a slow one
    has finished (a provider failing, the adapter waiting to try again), no sending thread is left to
    serve them, and a safety text must not wait for that one send."""
    app = current_app._get_current_object()
    contexts = [contextvars.copy_context() for _ in lanes]  # each thread logs with the tick's id
    with ThreadPoolExecutor(min(settings.threads, len(lanes))) as pool:
        futures = [
            pool.submit(ctx.run, _deliver_lane, app, lane, sender, now, settings, pacer, between)
            for ctx, lane in zip(contexts, lanes, strict=True)
        ]
        pending = set(futures)
        while pending:
            _done, pending = wait(pending, timeout=WAIT_SERVING_S if between else None)
            if between is not None and pending:
                between()
        return [outcome for future in futures for outcome in future.result()]


def _deliver_after(between: Between | None, message_id: int, *args) -> str:
    if between is not None:
        between()
    return deliver(message_id, *args)


def _lanes(ids: list[int], settings: DispatchSettings) -> list[list[int]]:
    """Split by recipient, so one member's messages (and their one open check-in) stay in order."""
    rows = db.session.execute(
        select(Message.id, Message.member_id, Message.facilitator_id).where(Message.id.in_(ids))
    )
    lanes: list[list[int]] = [[] for _ in range(settings.threads)]
    for message_id, member_id, facilitator_id in sorted(rows):
        key = member_id if member_id is not None else -(facilitator_id or 0)
        lanes[hash(key) % settings.threads].append(message_id)
    return [lane for lane in lanes if lane]


def _deliver_lane(app, ids: list[int], sender, now, settings: DispatchSettings, pacer, between) -> list[str]:
    with app.app_context():
        try:
            return [_deliver_after(between, i, sender, now, settings, pacer) for i in ids]
        finally:
            db.session.remove()


def deliver(message_id: int, sender: Sender, now: datetime, settings: DispatchSettings, pacer=None) -> str:
    """Send one claimed message, or say why not; returns the state it ends the tick in."""
    outcome = _deliver(message_id, sender, now, settings, pacer)
    metrics.count_outcome("retrying" if outcome == "pending" else outcome)
    return outcome


def _deliver(message_id: int, sender: Sender, now: datetime, settings: DispatchSettings, pacer) -> str:
    # Locked and re-checked: another scheduler's recovery may have taken the claim back (and sent it).
    message = db.session.get(Message, message_id, with_for_update=True, populate_existing=True)
    if message.state != "sending" or message.claimed_by != settings.worker:
        db.session.commit()
        log.warning("message %s is no longer claimed by %s; not sent", message_id, settings.worker)
        return "claim_lost"
    recipient = resolve_recipient(message)
    hold = _hold_reason(message, recipient, now, settings.quiet)
    if hold:
        db.session.commit()
        return hold
    handler = settings.kinds.get(message.kind)
    body = handler.compose(message, now) if handler else compose(message, recipient, settings, now)
    message.body = handler.preview(message) if handler and handler.secret else body
    message.segments = measure(body).count
    message.send_started_at = now
    db.session.commit()
    if pacer is not None and message.kind in SAFETY_KINDS:
        pacer.take()  # the next slot at once, ahead of every reminder waiting for its own
    elif pacer is not None:
        pacer.wait()
    _send(message, body, recipient, sender, now, settings)
    _commit_outcome()
    return message.state


def _commit_outcome() -> None:
    """Commit the send's outcome without waiting for the disk (PostgreSQL). Safe: if this commit were
    lost, the row would stay `sending` with send_started_at set, and recovery marks it `unknown` and
    never resends it; the durable commit before the send is what prevents doubles."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL synchronous_commit = off"))
    db.session.commit()


def _hold_reason(message: Message, recipient: Recipient, now: datetime, quiet: QuietHours) -> str | None:
    if recipient.blocked:
        _finish(message, "suppressed", recipient.blocked)
        return "suppressed"
    if message.deadline_at is not None and message.deadline_at <= now:  # the leader's sweep missed it
        _finish(message, "expired", "its moment passed before it could be sent (the session had started)")
        return "expired"
    if message.kind in QUIET_EXEMPT or not in_quiet_hours(now, recipient.timezone, quiet):
        return None
    later = defer_out_of_quiet(now, recipient.timezone, quiet)
    if message.deadline_at and later >= message.deadline_at:
        _finish(message, "expired", "due inside the recipient's quiet hours, and too late after them")
        return "expired"
    message.state, message.due_at, message.reason = "pending", later, "deferred: recipient's quiet hours"
    return "deferred"


def _send(message: Message, body: str, recipient: Recipient, sender: Sender, now: datetime, settings) -> None:
    try:
        result = sender.send(recipient.phone, body, status_callback=settings.status_callback)
    except RetryableSendError as exc:
        metrics.count_provider_error("retryable")
        _retry_or_fail(message, now, exc)
    except PermanentSendError as exc:
        metrics.count_provider_error(f"permanent:{exc.kind}")
        _finish(message, "failed", f"{exc.kind} ({exc.code}): {exc.reason}")
        apply_permanent_failure(message, exc, now)
    except UnknownOutcomeError as exc:
        metrics.count_provider_error("unknown")
        _unknown(message, now, exc.reason)
    except SendError as exc:  # an adapter's own error type: treat as unknown
        metrics.count_provider_error("unknown")
        _unknown(message, now, mask_phones(f"unexpected send error: {exc}"))
    else:
        handed_over = settings.clock() if settings.clock else now
        metrics.observe_handover(message.due_at, handed_over, message.kind in SAFETY_KINDS)
        message.state, message.sent_at = "sent", now
        message.provider_id, message.delivery_status = result.provider_id, _status(result.status)
        log.info("sent message %s (%s) to %s", message.id, message.kind, mask_phone(recipient.phone))


def _status(status: str | None) -> str | None:
    return status if status in ("queued", "sent", "delivered", "undelivered", "failed") else None


def _unknown(message: Message, now: datetime, reason: str) -> None:
    """May have been sent: never resent, except a safety text (a duplicate beats a loss)."""
    if message.kind in SAFETY_KINDS:
        _send_again(message, now, f"outcome unknown, so a safety text is sent again: {reason}")
    else:
        _finish(message, "unknown", f"may have been sent; not resent: {reason}")


def _send_again(message: Message, now: datetime, reason: str) -> None:
    message.state, message.send_started_at = "pending", None
    message.due_at, message.reason = now + safety_retry_delay(message.attempts), reason[:300]
    log.warning(
        "safety text %s not accepted (attempt %s); again at %s", message.id, message.attempts, message.due_at
    )


def _retry_or_fail(message: Message, now: datetime, exc: RetryableSendError) -> None:
    if message.kind in SAFETY_KINDS:  # no attempt cap: retried until accepted or acknowledged
        _send_again(message, now, f"retrying ({exc.code}): {exc.reason}")
        return
    if message.attempts >= MAX_ATTEMPTS:
        _finish(message, "failed", f"gave up after {message.attempts} attempts: {exc.reason}")
        return
    message.state, message.send_started_at = "pending", None
    message.due_at = now + RETRY_DELAY * message.attempts
    message.reason = f"retrying ({exc.code}): {exc.reason}"


def _finish(message: Message, state: str, reason: str) -> None:
    message.state, message.reason = state, reason[:300]
