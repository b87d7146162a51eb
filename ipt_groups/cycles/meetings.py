"""Individual meetings (pre-, mid- and post-group): the facilitator books each member's real time;
the meeting's reminders and its PHQ-9 check-in follow."""

from __future__ import annotations

from datetime import date, datetime, time

from ipt_groups.audit import record_change, snapshot
from ipt_groups.cycles.calendar import local_to_utc
from ipt_groups.cycles.reconcile import reconcile_group
from ipt_groups.errors import Conflict, InvalidInput
from ipt_groups.extensions import db
from ipt_groups.models import Group, IndividualMeeting
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
    try:
        starts_at = local_to_utc(new_date, time(minutes // 60, minutes % 60), group.timezone)
    except OverflowError:
        raise InvalidInput(
            "out of range", {"local_date": ["beyond the dates the calendar can hold"]}
        ) from None
    if starts_at <= now:
        raise InvalidInput("in the past", {"local_date": ["the new time has already passed"]})
    before = snapshot(meeting)
    length = meeting.ends_at - meeting.starts_at
    meeting.starts_at, meeting.ends_at = starts_at, starts_at + length
    meeting.moved_by_hand, meeting.revision = True, meeting.revision + 1
    db.session.flush()
    reconcile_group(meeting.group_id, now, "the individual meeting moved")
    record_change(actor, "meeting.move", meeting, before, snapshot(meeting))
    return meeting


def cancel_meeting(meeting: IndividualMeeting, actor: str, now: datetime) -> IndividualMeeting:
    """Cancel the meeting and its pending messages."""
    _changeable(meeting, now)
    before = snapshot(meeting)
    meeting.status, meeting.revision = "cancelled", meeting.revision + 1
    db.session.flush()
    reconcile_group(meeting.group_id, now, "the individual meeting was cancelled")
    record_change(actor, "meeting.cancel", meeting, before, snapshot(meeting))
    return meeting
