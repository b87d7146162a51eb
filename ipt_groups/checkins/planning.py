"""When check-ins go: one per member per occasion, planned with the cycle as outbox rows, two days
after each session (the PHQ-9 the day before the pre-group meeting), outside quiet hours."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from ipt_groups.cycles.templates import template_from_dict
from ipt_groups.extensions import db
from ipt_groups.messaging.outbox import plan_messages
from ipt_groups.messaging.timing import QuietHours, defer_out_of_quiet
from ipt_groups.models import Cycle, GroupSession, IndividualMeeting

AFTER_SESSION = timedelta(days=2)  # between sessions: the week's events are fresh, the next is days away
CHECKIN_WINDOW = timedelta(days=4)  # a check-in not sent by then is stale (the next session is near)


def plan_cycle_checkins(group, sessions, meetings, quiet: QuietHours, now: datetime) -> int:
    """One check-in per member per occasion: the PHQ-9 at the pre-group meeting, mid-cycle and at the
    end, the template's short check-in after the other sessions."""
    cycle = db.session.scalar(select(Cycle).filter_by(group_id=group.id))
    template = template_from_dict(cycle.template)
    return plan_messages(checkin_rows(template, group.current_members, sessions, meetings, quiet, now))


def checkin_rows(template, members, sessions, meetings, quiet: QuietHours, now: datetime) -> list[dict]:
    """The check-in rows of these members for these sessions and pre-group meetings."""
    points = {p.session: p.occasion for p in template.phq9_points() if p.session}
    rows = [
        _session_row(m, s, points, template.weekly_checkin, quiet, now) for m in members for s in sessions
    ]
    rows += [
        _meeting_row(m, meeting, quiet, now)
        for meeting in meetings
        if meeting.kind == "pre_group"
        for m in members
        if m.id == meeting.member_id
    ]
    return [r for r in rows if r]


def checkin_due(session_starts_at: datetime, tz: str, quiet: QuietHours) -> datetime:
    """When the check-in after a session goes out: two days later, outside quiet hours."""
    return defer_out_of_quiet(session_starts_at + AFTER_SESSION, tz, quiet)


def _session_row(member, session: GroupSession, points: dict, weekly: str, quiet, now):
    occasion = points.get(session.number, "weekly")
    instrument = "phq9" if occasion != "weekly" else weekly
    due = checkin_due(session.starts_at, member.timezone, quiet)
    if due <= now:
        return None
    return {
        "dedupe_key": f"m{member.id}:s{session.id}:checkin",
        "kind": "checkin",
        "member_id": member.id,
        "group_id": session.group_id,
        "session_id": session.id,
        "due_at": due,
        "deadline_at": due + timedelta(days=4),
        "context": {"instrument": instrument, "occasion": occasion},
    }


def meeting_checkin_due(meeting: IndividualMeeting, tz: str, quiet: QuietHours) -> datetime:
    """The pre-group PHQ-9 goes the day before the meeting, outside quiet hours."""
    return defer_out_of_quiet(meeting.starts_at - timedelta(days=1), tz, quiet)


def _meeting_row(member, meeting: IndividualMeeting, quiet, now):
    due = meeting_checkin_due(meeting, member.timezone, quiet)
    if due <= now:
        return None
    return {
        "dedupe_key": f"m{member.id}:im{meeting.id}:checkin",
        "kind": "checkin",
        "member_id": member.id,
        "group_id": meeting.group_id,
        "meeting_id": meeting.id,
        "due_at": due,
        "deadline_at": meeting.starts_at,
        "context": {"instrument": "phq9", "occasion": "pre_group"},
    }
