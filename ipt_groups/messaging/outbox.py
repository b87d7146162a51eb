"""The outbox: every planned SMS is a row with a state and a unique key. Rows are planned inside
the transaction that caused them; the dispatcher claims due rows atomically and sends them after
the claim is committed, so nothing is lost and nothing is sent twice."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import TextClause, bindparam, func, insert, literal_column, select, text, update

from ipt_groups.extensions import db
from ipt_groups.messaging.wakeup import wake_dispatcher
from ipt_groups.models import Message
from ipt_groups.models.message import SAFETY_KINDS, SAFETY_PENDING, URGENT_KINDS, URGENT_PENDING
from ipt_groups.models.types import UTCDateTime

log = logging.getLogger(__name__)

# Messages a person is waiting for right now: never deferred by quiet hours.
QUIET_EXEMPT = frozenset({*SAFETY_KINDS, *URGENT_KINDS, "operator_alert"})
# Kinds whose planning wakes a listening scheduler (PostgreSQL) to send them at once.
WAKING_KINDS = frozenset({*SAFETY_KINDS, *URGENT_KINDS})
RETRY_DELAY = timedelta(minutes=2)
MAX_ATTEMPTS = 5  # for everything but safety texts, which are retried until accepted
SAFETY_RETRY_DELAY = timedelta(seconds=15)
SAFETY_MAX_RETRY_DELAY = timedelta(minutes=2)


_OPTIONAL = dict.fromkeys(
    ("member_id", "facilitator_id", "to_phone", "group_id", "session_id", "meeting_id", "deadline_at")
)


def plan_messages(rows: list[dict]) -> int:
    """Insert planned messages in bulk (each a dict of Message fields, with a unique dedupe_key).
    Every row gets the same keys so the insert goes as one executemany, not one per key pattern."""
    if rows:
        uniform = [{**_OPTIONAL, "context": {}, "state": "pending", "attempts": 0, **r} for r in rows]
        db.session.execute(insert(Message.__table__), uniform)
        if any(r["kind"] in WAKING_KINDS for r in rows):
            wake_dispatcher()
    return len(rows)


def plan_once(row: dict) -> Message | None:
    """Plan one message unless its key was planned before (by any path): None if it was."""
    if db.session.scalar(select(Message.id).where(Message.dedupe_key == row["dedupe_key"])):
        return None
    message = Message(state="pending", attempts=0, **row)
    db.session.add(message)
    db.session.flush()
    if message.kind in WAKING_KINDS:
        wake_dispatcher(str(message.id))
    return message


def cancel_pending(*where, reason: str, include_safety: bool = False) -> int:
    """Cancel the pending messages matching `where` (a member opted out, a session was cancelled).
    Safety texts are left alone unless asked (their alert was acknowledged): nothing else drops them."""
    if not include_safety:
        where = (*where, Message.kind.not_in(SAFETY_KINDS))
    stmt = update(Message).where(Message.state == "pending", *where).values(state="cancelled", reason=reason)
    return db.session.execute(stmt.execution_options(synchronize_session=False)).rowcount


def safety_retry_delay(attempts: int) -> timedelta:
    """How long a safety text waits before it is tried again: short, growing, capped."""
    return min(SAFETY_RETRY_DELAY * max(attempts, 1), SAFETY_MAX_RETRY_DELAY)


def expire_overdue(now: datetime) -> int:
    """Pending messages whose moment has passed (the session has started) become expired."""
    # due_at <= deadline_at always, so the (state, due_at) index bounds this to what is due.
    stmt = (
        update(Message)
        .where(Message.state == "pending", Message.due_at <= now, Message.deadline_at <= now)
        .values(state="expired", reason="its moment passed before it could be sent (the session had started)")
    )
    return db.session.execute(stmt.execution_options(synchronize_session=False)).rowcount


def claim_due(now: datetime, worker: str, limit: int) -> list[int]:
    """Atomically move up to `limit` due rows from pending to sending for this worker.

    PostgreSQL: FOR UPDATE SKIP LOCKED lets concurrent dispatchers take disjoint rows. SQLite: the
    UPDATE is serialised by the database lock and re-checks state, a compare-and-set."""
    ids = sorted(db.session.execute(claim_statement(now, worker, limit)).scalars())
    db.session.commit()
    return ids


def claim_statement(now: datetime, worker: str, limit: int):
    """The claim as one statement (benchmarks EXPLAIN it as it is sent)."""
    # A CTE, not IN (subquery): PostgreSQL may re-run an IN subquery and take more than `limit` rows.
    # The LIMIT is written into the SQL, not bound: a generic plan (psycopg prepares a statement after
    # five runs) cannot see a bound LIMIT, and then reads every pending row instead of the first due ones.
    due = (
        select(Message.id)
        .where(Message.state == "pending", Message.due_at <= now)
        .order_by(Message.due_at, Message.id)
        .limit(literal_column(str(int(limit))))
        .with_for_update(skip_locked=True)
        .cte("due")
    )
    stmt = (
        update(Message)
        .where(Message.id == due.c.id, Message.state == "pending")
        .values(state="sending", claimed_at=now, claimed_by=worker, attempts=Message.attempts + 1)
        .returning(Message.id)
    )
    return stmt.execution_options(synchronize_session=False)


_LANE_DUE = (
    "SELECT id FROM messages{hint} WHERE {pending} AND due_at <= :now ORDER BY due_at, id LIMIT :n{lock}"
)
# A lane's partial index and the literal predicate that both the index and its scan are written with.
LANES = {
    "safety": ("ix_messages_safety_pending", SAFETY_PENDING),
    "urgent": ("ix_messages_urgent_pending", URGENT_PENDING),
}


def safety_due_query(lane: str = "safety") -> TextClause:
    """A priority lane's scan (parameters `now`, `n`), in this database's dialect."""
    index, pending = LANES[lane]
    postgres = db.session.get_bind().dialect.name == "postgresql"
    sql = _LANE_DUE.format(
        hint="" if postgres else f" INDEXED BY {index}",
        pending=pending,
        lock=" FOR UPDATE SKIP LOCKED" if postgres else "",
    )
    return text(sql).bindparams(bindparam("now", type_=UTCDateTime()))


def claim_safety(now: datetime, worker: str, limit: int, lane: str = "safety") -> list[int]:
    """Claim due safety texts, oldest first, before anything else however much else is due (the
    `urgent` lane, sign-in codes, is claimed the same way right after). The scan reads only the
    lane's partial index of pending rows (SQLite is told to: its planner would otherwise take the
    larger state index)."""
    ids = list(db.session.scalars(safety_due_query(lane), {"now": now, "n": limit}))
    if not ids:
        db.session.commit()
        return []
    stmt = (
        update(Message)
        .where(Message.id.in_(ids), Message.state == "pending")
        .values(state="sending", claimed_at=now, claimed_by=worker, attempts=Message.attempts + 1)
        .returning(Message.id)
    )
    claimed = set(db.session.execute(stmt.execution_options(synchronize_session=False)).scalars())
    db.session.commit()
    return [i for i in ids if i in claimed]


def recover_interrupted(now: datetime, worker: str, lease: timedelta | None = None) -> tuple[int, int]:
    """Rows left in `sending` by a stopped dispatcher: back to pending if the send never began,
    `unknown` if it may have reached the provider (never resent blindly, except safety texts, which
    are sent again). Returns (requeued, unknown)."""
    stale = [Message.state == "sending", Message.claimed_by != worker]
    if lease is not None:
        stale.append(Message.claimed_at <= now - lease)
    return settle_claims(stale)


def release_own_claims(worker: str) -> tuple[int, int]:
    """Rows this worker claimed in a tick that failed midway (the database went away): settled as
    `recover_interrupted` settles a stopped dispatcher's. Only safe between two ticks of the worker."""
    return settle_claims([Message.state == "sending", Message.claimed_by == worker])


def settle_claims(stale: list) -> tuple[int, int]:
    """Settle the `sending` rows matching `stale` (their dispatcher stopped): back to pending if the
    send never began, `unknown` if it may have reached the provider; commits."""
    # A safety text that may have gone is sent again: a duplicate is acceptable, a lost one is not.
    resent = db.session.execute(
        update(Message)
        .where(*stale, Message.send_started_at.is_not(None), Message.kind.in_(SAFETY_KINDS))
        .values(
            state="pending",
            claimed_by=None,
            send_started_at=None,
            reason="requeued: the dispatcher stopped during the send; a safety text is sent again",
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    requeued = db.session.execute(
        update(Message)
        .where(*stale, Message.send_started_at.is_(None))
        .values(
            state="pending",
            claimed_by=None,
            # The claim counted an attempt, but nothing was sent: give it back.
            attempts=Message.attempts - 1,
            reason="requeued: the dispatcher stopped before sending",
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    unknown = db.session.execute(
        update(Message)
        .where(*stale, Message.send_started_at.is_not(None), Message.kind.not_in(SAFETY_KINDS))
        .values(
            state="unknown", reason="the dispatcher stopped during the send; not resent, to avoid a double"
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return requeued + resent, unknown


def due_backlog(now: datetime) -> tuple[int, datetime | None]:
    """How many pending rows are due at `now`, and the oldest one's due time (the state index)."""
    due = (Message.state == "pending", Message.due_at <= now)
    count = db.session.scalar(select(func.count()).select_from(Message).where(*due))
    return count, db.session.scalar(select(func.min(Message.due_at)).where(*due))


@dataclass
class TickStats:
    """What one dispatcher tick did."""

    expired: int = 0
    claimed: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        self.by_outcome[outcome] = self.by_outcome.get(outcome, 0) + 1

    def add(self, other: TickStats) -> TickStats:
        """Fold in what a second run of the same tick (the safety lane's) did."""
        self.expired += other.expired
        self.claimed += other.claimed
        for outcome, n in other.by_outcome.items():
            self.by_outcome[outcome] = self.by_outcome.get(outcome, 0) + n
        return self
