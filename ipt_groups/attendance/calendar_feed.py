"""A facilitator's calendar feed: their groups' sessions and individual meetings. Calendar apps
cannot send a bearer token, so the feed URL carries a key derived from CALENDAR_FEED_SECRET."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ipt_groups.attendance.records import session_info
from ipt_groups.attendance.sheets import CalendarEvent, calendar_ics, session_event
from ipt_groups.extensions import db
from ipt_groups.models import Facilitator, Group, GroupSession, IndividualMeeting

MEETING_NAMES = {"pre_group": "pre-group", "mid_group": "mid-group", "post_group": "post-group"}


def feed_key(facilitator_id: int) -> str:
    """The key in a facilitator's feed URL; rotating CALENDAR_FEED_SECRET revokes every key."""
    secret = current_app.config["CALENDAR_FEED_SECRET"].encode()
    return hmac.new(secret, f"calendar:{facilitator_id}".encode(), hashlib.sha256).hexdigest()[:40]


def key_is_valid(facilitator_id: int, key: str | None) -> bool:
    """Whether `key` opens this facilitator's feed (any text: compare_digest refuses non-ASCII str)."""
    return bool(key) and hmac.compare_digest(
        feed_key(facilitator_id).encode(), key.encode("utf-8", "replace")
    )


def facilitator_calendar(facilitator: Facilitator, now: datetime) -> bytes:
    """Every session and individual meeting of the facilitator's groups, as iCalendar."""
    groups = {g.id: g for g in db.session.scalars(select(Group).filter_by(facilitator_id=facilitator.id))}
    sessions = db.session.scalars(select(GroupSession).where(GroupSession.group_id.in_(groups)))
    events = [session_event(groups[s.group_id].name, session_info(s), s.revision) for s in sessions]
    meetings = db.session.scalars(select(IndividualMeeting).where(IndividualMeeting.group_id.in_(groups)))
    events += [_meeting_event(m, groups[m.group_id]) for m in meetings]
    return calendar_ics(facilitator.name, events, now)


def _meeting_event(meeting: IndividualMeeting, group: Group) -> CalendarEvent:
    summary = f"Group {group.name}: {MEETING_NAMES[meeting.kind]} meeting with member {meeting.member_id}"
    ends_at = meeting.ends_at or meeting.starts_at + timedelta(minutes=60)
    return CalendarEvent(
        f"meeting-{meeting.id}@ipt-groups",
        summary,
        meeting.starts_at,
        ends_at,
        "",
        meeting.status,
        meeting.revision,
    )
