"""A member joining or leaving a group whose cycle is already planned: their reminders, check-ins
and individual meetings follow, and the closed-cohort rule is enforced."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ipt_groups.checkins.planning import checkin_rows
from ipt_groups.cycles.calendar import plan_meetings
from ipt_groups.cycles.operations import planned_session, quiet_hours
from ipt_groups.cycles.reminders import meeting_rows, member_session_rows
from ipt_groups.cycles.templates import template_from_dict
from ipt_groups.extensions import db
from ipt_groups.messaging.outbox import cancel_pending, plan_or_revive
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
    """Plan a joiner's reminders, check-ins and remaining individual meetings; a member who left
    and comes back gets their cancelled ones again rather than doubles."""
    cycle = db.session.scalar(select(Cycle).filter_by(group_id=group.id))
    if cycle is None:
        return
    quiet, template = quiet_hours(), template_from_dict(cycle.template)
    sessions = list(db.session.scalars(select(GroupSession).filter_by(group_id=group.id).order_by("number")))
    upcoming = [s for s in sessions if s.status == "scheduled" and s.starts_at > now]
    meetings = _meetings(group, member, template, sessions, now)
    rows = member_session_rows(group, member, upcoming, quiet, now)
    rows += [row for m in meetings for row in meeting_rows(m, member, quiet, now)]
    rows += checkin_rows(template, [member], upcoming, meetings, quiet, now)
    plan_or_revive(rows)


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


def leave_cycle(group_id: int, member_id: int, reason: str) -> int:
    """A member who leaves gets no more of the group's messages; their meetings are cancelled."""
    for meeting in db.session.scalars(
        select(IndividualMeeting).filter_by(group_id=group_id, member_id=member_id, status="scheduled")
    ):
        meeting.status = "cancelled"
    return cancel_pending(Message.group_id == group_id, Message.member_id == member_id, reason=reason)
