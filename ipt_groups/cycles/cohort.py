"""A member joining or leaving a group whose cycle is already planned: their reminders, check-ins
and individual meetings follow, and the closed-cohort rule is enforced."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ipt_groups.cycles.calendar import plan_meetings
from ipt_groups.cycles.operations import planned_session
from ipt_groups.cycles.reconcile import reconcile_group
from ipt_groups.cycles.templates import template_from_dict
from ipt_groups.extensions import db
from ipt_groups.messaging.outbox import cancel_pending
from ipt_groups.models import Cycle, Group, GroupSession, IndividualMeeting, Member, Message


def late_join_refusal(group: Group, now: datetime) -> str | None:
    """Why the group is closed to new members now (a template setting), or None."""
    cycle = db.session.scalar(select(Cycle).filter_by(group_id=group.id))
    if cycle is None:
        return None
    until = cycle.template.get("late_join_until_session", 2)
    started = db.session.scalar(
        select(GroupSession.number)
        .where(
            GroupSession.group_id == group.id,
            GroupSession.status != "cancelled",
            GroupSession.starts_at <= now,
        )
        .order_by(GroupSession.number.desc())
        .limit(1)
    )
    if started is not None and started > until:
        return f"session {started} has begun; the group takes new members only until session {until}"
    return None


def join_cycle(group: Group, member: Member, now: datetime) -> None:
    """Date a joiner's remaining individual meetings and re-plan the group (the reconciler gives them
    the reminders and check-ins still to come; a member who left and comes back gets their cancelled
    ones again rather than doubles)."""
    cycle = db.session.scalar(select(Cycle).filter_by(group_id=group.id))
    if cycle is None:
        return
    template = template_from_dict(cycle.template)
    sessions = list(db.session.scalars(select(GroupSession).filter_by(group_id=group.id).order_by("number")))
    _meetings(group, member, template, sessions, now)
    reconcile_group(group.id, now, f"member {member.id} joined")


def _meetings(group: Group, member: Member, template, sessions, now: datetime) -> list[IndividualMeeting]:
    planned = [
        p
        for p in plan_meetings(template, [planned_session(s) for s in sessions], group.timezone)
        if p.starts_at > now
    ]
    existing = {
        m.kind: m
        for m in db.session.scalars(
            select(IndividualMeeting).filter_by(group_id=group.id, member_id=member.id)
        )
    }
    meetings = []
    for p in planned:
        meeting = existing.get(p.kind) or IndividualMeeting(
            group_id=group.id, member_id=member.id, kind=p.kind
        )
        meeting.starts_at, meeting.ends_at, meeting.status = p.starts_at, p.ends_at, "scheduled"
        db.session.add(meeting)
        meetings.append(meeting)
    db.session.flush()
    return meetings


def leave_cycle(group_id: int, member_id: int, reason: str, now: datetime) -> int:
    """A member who leaves gets no more of the group's messages; their meetings are cancelled."""
    for meeting in db.session.scalars(
        select(IndividualMeeting).filter_by(group_id=group_id, member_id=member_id, status="scheduled")
    ):
        meeting.status = "cancelled"
    db.session.flush()
    # The enrolment has ended: the group's plan no longer has them; anything else of theirs in the
    # group that was pending (a missed-you text) goes too.
    reconcile_group(group_id, now, reason)
    return cancel_pending(Message.group_id == group_id, Message.member_id == member_id, reason=reason)
