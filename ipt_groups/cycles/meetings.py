"""Individual meetings (pre-, mid- and post-group): the facilitator books each member's real time;
the meeting's reminders and its PHQ-9 check-in follow."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from ipt_groups.audit import record_change, snapshot
from ipt_groups.checkins.planning import meeting_checkin_due
from ipt_groups.cycles.calendar import local_to_utc, plan_reminder
from ipt_groups.cycles.operations import quiet_hours
from ipt_groups.cycles.reminders import REMINDER_OFFSETS
from ipt_groups.errors import Conflict, InvalidInput
from ipt_groups.extensions import db
from ipt_groups.messaging.outbox import cancel_pending
from ipt_groups.models import Group, IndividualMeeting, Member, Message
from ipt_groups.time_of_day import parse_hhmm


def _changeable(meeting: IndividualMeeting, now: datetime) -> None:
    if meeting.status != "scheduled":
        raise Conflict("meeting closed", {"status": [f"the meeting is {meeting.status}"]})
    if meeting.starts_at <= now:
        raise Conflict("meeting started", {"meeting_id": ["the meeting has already started"]})


def move_meeting(meeting: IndividualMeeting, new_date: date, new_start: str, actor: str, now: datetime):
    """Book the meeting at a local date and time in the group's timezone; its messages follow."""
    _changeable(meeting, now)
    group = db.session.get(Group, meeting.group_id)
    minutes = parse_hhmm(new_start)
    starts_at = local_to_utc(new_date, time(minutes // 60, minutes % 60), group.timezone)
    if starts_at <= now:
        raise InvalidInput("in the past", {"local_date": ["the new time has already passed"]})
    before = snapshot(meeting)
    length = meeting.ends_at - meeting.starts_at
    meeting.starts_at, meeting.ends_at = starts_at, starts_at + length
    meeting.moved_by_hand, meeting.revision = True, meeting.revision + 1
    _retime(meeting, now)
    db.session.flush()
    record_change(actor, "meeting.move", meeting, before, snapshot(meeting))
    return meeting


def cancel_meeting(meeting: IndividualMeeting, actor: str, now: datetime) -> IndividualMeeting:
    """Cancel the meeting and its pending messages."""
    _changeable(meeting, now)
    before = snapshot(meeting)
    meeting.status, meeting.revision = "cancelled", meeting.revision + 1
    cancel_pending(Message.meeting_id == meeting.id, reason="the meeting was cancelled")
    db.session.flush()
    record_change(actor, "meeting.cancel", meeting, before, snapshot(meeting))
    return meeting


def _retime(meeting: IndividualMeeting, now: datetime) -> None:
    quiet, tz = quiet_hours(), db.session.get(Member, meeting.member_id).timezone
    pending = select(Message).where(Message.meeting_id == meeting.id, Message.state == "pending")
    for message in db.session.scalars(pending):
        if message.kind == "checkin":
            message.due_at, message.deadline_at = meeting_checkin_due(meeting, tz, quiet), meeting.starts_at
            continue
        due = plan_reminder(
            meeting.starts_at, REMINDER_OFFSETS.get(message.kind, timedelta(hours=24)), tz, quiet, now
        )
        if due is None:
            message.state, message.reason = "cancelled", "the meeting moved too close to send this reminder"
        else:
            message.due_at, message.deadline_at = due, meeting.starts_at
