"""A facilitator's calendar feed: their groups' sessions and individual meetings. Calendar apps
cannot send a bearer token, so the feed URL carries a key derived from CALENDAR_FEED_SECRET and the
facilitator's key version: raising the version revokes that facilitator's URL alone; rotating the
secret revokes every URL. A wrong key and an unknown facilitator get the same answer."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ipt_groups.attendance.records import session_info
from ipt_groups.attendance.sheets import CalendarEvent, calendar_ics, session_event
from ipt_groups.audit import audited_update
from ipt_groups.extensions import db
from ipt_groups.models import Facilitator, Group, GroupSession, IndividualMeeting

MEETING_NAMES = {"pre_group": "pre-group", "mid_group": "mid-group", "post_group": "post-group"}


def feed_key(facilitator: Facilitator) -> str:
    """The key in a facilitator's feed URL, for their current key version."""
    return _key(facilitator.id, facilitator.feed_key_version)


def _key(facilitator_id: int, version: int) -> str:
    secret = current_app.config["CALENDAR_FEED_SECRET"].encode()
    message = f"calendar:{facilitator_id}:{version}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:40]


def facilitator_for_key(facilitator_id: int, key: str) -> Facilitator | None:
    """The facilitator whose feed `key` opens, or None: an unknown id costs the same HMAC as a known
    one, so neither the answer nor its time tells them apart (compare_digest refuses non-ASCII str)."""
    facilitator = db.session.get(Facilitator, facilitator_id)
    expected = _key(facilitator_id, facilitator.feed_key_version if facilitator else 0)
    matches = hmac.compare_digest(expected.encode(), key.encode("utf-8", "replace"))
    return facilitator if matches and facilitator is not None else None


def revoke_feed(facilitator: Facilitator, actor: str) -> Facilitator:
    """Revoke the facilitator's feed URL (a new one is issued by the next calendar-link); audited."""
    return audited_update(
        actor, "calendar_feed.revoke", facilitator, {"feed_key_version": facilitator.feed_key_version + 1}
    )


def facilitator_calendar(facilitator: Facilitator, now: datetime) -> bytes:
    """Every session and individual meeting of the facilitator's groups, as iCalendar."""
    groups = {g.id: g for g in db.session.scalars(select(Group).filter_by(facilitator_id=facilitator.id))}
    sessions = db.session.scalars(select(GroupSession).where(GroupSession.group_id.in_(groups)))
    events = [session_event(str(s.group_id), session_info(s), s.revision) for s in sessions]
    meetings = db.session.scalars(select(IndividualMeeting).where(IndividualMeeting.group_id.in_(groups)))
    events += [_meeting_event(m, groups[m.group_id]) for m in meetings]
    return calendar_ics(facilitator.name, events, now)


def _meeting_event(meeting: IndividualMeeting, group: Group) -> CalendarEvent:
    summary = f"Group {group.id}: {MEETING_NAMES[meeting.kind]} meeting with member {meeting.member_id}"
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
