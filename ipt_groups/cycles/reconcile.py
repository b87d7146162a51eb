"""The reconciler: makes a group's pending outbox rows equal to `desired_messages` of its current facts.

It runs in the transaction of every change that can affect the plan (a session moved, cancelled or
shifted; the group's slot or facilitator; a member joining or leaving; consent, phone, timezone or
language; quiet hours). Pending rows that are still wanted are kept (their times and context updated in
place); pending rows no longer wanted are cancelled with a reason; missing ones are added (a cancelled row
with the same key is revived). Rows that were sent, failed, expired or are being sent are history: never
re-planned. Reading and writing are set-based (one read of the group's rows, bulk writes), so a group of
20 sessions and 12 members reconciles in a few milliseconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time

from flask import current_app
from sqlalchemy import Text, bindparam, cast, select, update

from ipt_groups.cycles.plan import (
    PLANNED_KINDS,
    DesiredMessage,
    GroupFacts,
    MeetingFact,
    MemberFact,
    SessionFact,
    Told,
    desired_messages,
    same_plan,
)
from ipt_groups.cycles.templates import template_from_dict
from ipt_groups.extensions import db
from ipt_groups.messaging.outbox import plan_messages
from ipt_groups.messaging.timing import QuietHours
from ipt_groups.models import (
    Cycle,
    Enrolment,
    Facilitator,
    Group,
    GroupSession,
    IndividualMeeting,
    Member,
    Message,
)
from ipt_groups.time_of_day import parse_hhmm

# Notice rows in these states were handed to the provider (or tried): the member was told, or we tried.
FINAL_STATES = ("sending", "sent", "failed", "expired", "suppressed", "unknown")


@dataclass
class Outcome:
    kept: int = 0
    updated: int = 0
    added: int = 0
    revived: int = 0
    cancelled: int = 0


def quiet_hours() -> QuietHours:
    """The programme's quiet hours (QUIET_HOURS, "21:00-08:00")."""
    start, _, end = current_app.config["QUIET_HOURS"].partition("-")
    a, b = parse_hhmm(start.strip()), parse_hhmm(end.strip())
    return QuietHours(time(a // 60, a % 60), time(b // 60, b % 60))


def group_facts(group_id: int, now: datetime, quiet: QuietHours | None = None) -> GroupFacts | None:
    """The facts the plan of one group depends on, read in a handful of queries; None without a cycle."""
    head = db.session.execute(
        select(Cycle.template, Cycle.skip_dates, Group.facilitator_id, Facilitator.timezone)
        .join(Group, Group.id == Cycle.group_id)
        .join(Facilitator, Facilitator.id == Group.facilitator_id)
        .where(Cycle.group_id == group_id)
    ).first()
    if head is None:
        return None
    template_doc, skip_dates, facilitator_id, facilitator_tz = head
    template = _template(template_doc)
    sessions = tuple(
        SessionFact(r.id, r.number, r.starts_at, r.status, r.local_date, r.announced_starts_at or r.starts_at)
        for r in db.session.execute(
            select(
                GroupSession.id,
                GroupSession.number,
                GroupSession.starts_at,
                GroupSession.status,
                GroupSession.local_date,
                GroupSession.announced_starts_at,
            )
            .filter_by(group_id=group_id)
            .order_by(GroupSession.number)
        )
    )
    meetings = tuple(
        MeetingFact(*r)
        for r in db.session.execute(
            select(
                IndividualMeeting.id,
                IndividualMeeting.member_id,
                IndividualMeeting.kind,
                IndividualMeeting.starts_at,
                IndividualMeeting.status,
            ).filter_by(group_id=group_id)
        )
    )
    members = tuple(
        MemberFact(r.id, r.timezone, bool(r.sms_consent) and r.opted_out_at is None, r.joined_on)
        for r in db.session.execute(
            select(Member.id, Member.timezone, Member.sms_consent, Member.opted_out_at, Enrolment.joined_on)
            .join(Enrolment, Enrolment.member_id == Member.id)
            .where(Enrolment.group_id == group_id, Enrolment.left_on.is_(None))
        )
    )
    told, sent = _notices(group_id)
    shifted = frozenset(_as_date(d) for d in (skip_dates or []))
    return GroupFacts(
        group_id=group_id,
        facilitator_id=facilitator_id,
        facilitator_tz=facilitator_tz,
        sessions=sessions,
        meetings=meetings,
        members=members,
        quiet=quiet or quiet_hours(),
        now=now,
        phq9_sessions={p.session: p.occasion for p in template.phq9_points() if p.session},
        weekly_instrument=template.weekly_checkin,
        told=told,
        notices_sent=sent,
        shifted_dates=shifted,
    )


def _template(doc: dict):
    """The cycle's template (parsed once per distinct snapshot: most groups share a few)."""
    key = json.dumps(doc, sort_keys=True)
    found = _TEMPLATES.get(key)
    if found is None:
        found = _TEMPLATES[key] = template_from_dict(doc)
    return found


_TEMPLATES: dict = {}


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _notices(group_id: int) -> tuple[dict, dict]:
    """What each member was last told of each session (the latest notice that left, unless the
    session was announced to everyone again since), and how many notices left per member and session."""
    rows = db.session.execute(
        select(
            Message.member_id,
            Message.session_id,
            Message.context,
            Message.sent_at,
            Message.claimed_at,
            GroupSession.announced_at,
        )
        .join(GroupSession, GroupSession.id == Message.session_id)
        .where(
            Message.group_id == group_id,
            Message.kind == "change_notice",
            Message.state.in_(FINAL_STATES),
            Message.member_id.is_not(None),
        )
        .order_by(Message.id)
    )
    told, sent = {}, {}
    for member_id, session_id, context, sent_at, claimed_at, announced_at in rows:
        pair = (member_id, session_id)
        sent[pair] = sent.get(pair, 0) + 1
        left = sent_at or claimed_at
        if announced_at is not None and left is not None and left < announced_at:
            continue  # announced to everyone again after this notice (a shift moved the session along)
        if context and context.get("new_start"):
            told[pair] = Told(
                context.get("status", "scheduled"), datetime.fromisoformat(context["new_start"])
            )
    return told, sent


def reconcile_group(
    group_id: int, now: datetime, reason: str = "the plan changed", quiet: QuietHours | None = None
) -> Outcome:
    """Make the group's pending planned messages equal to what its facts call for."""
    facts = group_facts(group_id, now, quiet)
    desired = desired_messages(facts) if facts is not None else {}
    return apply_plan(group_id, desired, reason)


def apply_plan(group_id: int, desired: dict[str, DesiredMessage], reason: str) -> Outcome:
    """Keep, update, revive, add and cancel rows so the group's pending rows are `desired`."""
    outcome = Outcome()
    columns = (
        Message.id,
        Message.dedupe_key,
        Message.state,
        Message.due_at,
        Message.deadline_at,
        cast(Message.context, Text).label("context"),
        Message.member_id,
        Message.facilitator_id,
        Message.session_id,
        Message.meeting_id,
    )
    pending = db.session.execute(
        select(*columns).where(
            Message.group_id == group_id, Message.state == "pending", Message.kind.in_(PLANNED_KINDS)
        )
    ).mappings()
    known = {row["dedupe_key"]: row for row in pending}
    missing = [key for key in desired if key not in known]
    for chunk in _chunks(missing, 500):
        for row in db.session.execute(select(*columns).where(Message.dedupe_key.in_(chunk))).mappings():
            known[row["dedupe_key"]] = row
    cancel_ids, changes, inserts = [], [], []
    for key, row in known.items():
        wanted = desired.get(key)
        if row["state"] == "pending":
            if wanted is None:
                cancel_ids.append(row["id"])
            elif same_plan(row, wanted):
                outcome.kept += 1
            else:
                changes.append(_values(row["id"], wanted, row, "pending"))
                outcome.updated += 1
        elif row["state"] == "cancelled" and wanted is not None:
            changes.append(_values(row["id"], wanted, row, "pending"))
            outcome.revived += 1
    for key, wanted in desired.items():
        if key not in known:
            inserts.append(_insert(group_id, wanted))
    if cancel_ids:
        for chunk in _chunks(cancel_ids, 500):
            stmt = update(Message).where(Message.id.in_(chunk), Message.state == "pending")
            db.session.execute(
                stmt.values(state="cancelled", reason=f"no longer planned: {reason}"[:300]).execution_options(
                    synchronize_session=False
                )
            )
        outcome.cancelled = len(cancel_ids)
    for chunk in _chunks(changes, 500):
        _update_rows(chunk)
    outcome.added = plan_messages(inserts)
    return outcome


_CHANGED = (
    ("id", int),
    ("state", str),
    ("due_at", datetime),
    ("deadline_at", datetime),
    ("context", dict),
    ("member_id", int),
    ("facilitator_id", int),
    ("session_id", int),
    ("meeting_id", int),
)


def _update_rows(rows: list[dict]) -> None:
    """Rows updated in one executemany (psycopg sends them in one pipeline; measured faster here than
    one UPDATE ... FROM (VALUES ...))."""
    table = Message.__table__
    stmt = update(table).where(table.c.id == bindparam("b_id"))
    stmt = stmt.values(
        {name: bindparam(f"b_{name}") for name, _ in _CHANGED if name != "id"} | {"reason": None}
    )
    db.session.execute(stmt, rows, execution_options={"synchronize_session": False})


def _values(row_id: int, wanted: DesiredMessage, row, state: str) -> dict:
    keep_due = wanted.kind == "change_notice" and row["state"] == "pending"
    return {
        "b_id": row_id,
        "b_state": state,
        "b_due_at": row["due_at"] if keep_due else wanted.due_at,
        "b_deadline_at": wanted.deadline_at,
        "b_context": dict(wanted.context),
        "b_member_id": wanted.member_id,
        "b_facilitator_id": wanted.facilitator_id,
        "b_session_id": wanted.session_id,
        "b_meeting_id": wanted.meeting_id,
    }


def _insert(group_id: int, wanted: DesiredMessage) -> dict:
    return {
        "dedupe_key": wanted.key,
        "kind": wanted.kind,
        "group_id": group_id,
        "member_id": wanted.member_id,
        "facilitator_id": wanted.facilitator_id,
        "session_id": wanted.session_id,
        "meeting_id": wanted.meeting_id,
        "due_at": wanted.due_at,
        "deadline_at": wanted.deadline_at,
        "context": dict(wanted.context),
    }


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def reconcile_member(member_id: int, now: datetime, reason: str) -> Outcome | None:
    """Reconcile the member's current group, if they are in one (their consent, phone, timezone or
    language changed)."""
    group_id = db.session.scalar(
        select(Enrolment.group_id).where(Enrolment.member_id == member_id, Enrolment.left_on.is_(None))
    )
    return reconcile_group(group_id, now, reason) if group_id is not None else None


def groups_with_cycles() -> list[int]:
    """Every group with a cycle still to run (its ids), for a programme-wide re-plan."""
    query = (
        select(Group.id)
        .join(Cycle, Cycle.group_id == Group.id)
        .where(Group.status.in_(("scheduled", "running", "forming")))
        .order_by(Group.id)
    )
    return list(db.session.scalars(query))


def reconcile_all(
    now: datetime, reason: str, batch: int = 25, quiet: QuietHours | None = None, progress=None
):
    """Re-plan every group (quiet hours changed), committing every `batch` groups so that no
    transaction holds the outbox long: the dispatcher's claims (SKIP LOCKED) go on between batches."""
    total = Outcome()
    ids = groups_with_cycles()
    for start in range(0, len(ids), batch):
        for group_id in ids[start : start + batch]:
            done = reconcile_group(group_id, now, reason, quiet)
            for field in ("kept", "updated", "added", "revived", "cancelled"):
                setattr(total, field, getattr(total, field) + getattr(done, field))
        db.session.commit()
        if progress is not None:
            progress(min(start + batch, len(ids)), len(ids))
    return total
