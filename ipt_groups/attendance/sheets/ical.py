"""A facilitator's sessions as an iCalendar feed that calendar apps subscribe to.

Each event keeps one UID for life (`session-<id>@ipt-groups`), so an app updates a moved session in place
instead of adding a second one; SEQUENCE is the caller's revision number of that session (bump it on
every move or cancel) and a cancelled session stays in the feed with STATUS:CANCELLED, so subscribers
strike it out rather than keep a stale copy. Times are written in UTC (the Z form). Summaries name the
group by its number and the session number only: a calendar may be shared or glanced at on a lock
screen, and a group's name may name its topic, so no word of therapy, symptoms or problem area goes in
it (DOMAIN.md, Privacy), as in the texts to staff. Use session_event to build events that follow this.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event, vDuration

from ipt_groups.attendance.rules import SessionInfo

PRODID = "-//ipt-groups//facilitator calendar//EN"
UID_DOMAIN = "ipt-groups"
REFRESH = timedelta(hours=1)
DEFAULT_MINUTES = 90
_ICS_STATUS = {"scheduled": "CONFIRMED", "held": "CONFIRMED", "cancelled": "CANCELLED"}


@dataclass(frozen=True)
class CalendarEvent:
    """One event of the feed; status is a session status (scheduled, held or cancelled)."""

    uid: str
    summary: str
    starts_at: datetime
    ends_at: datetime
    description: str = ""
    status: str = "scheduled"
    sequence: int = 0

    def __post_init__(self):
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("calendar times must be timezone-aware")
        if self.status not in _ICS_STATUS:
            raise ValueError(f"status must be one of {', '.join(_ICS_STATUS)}, got {self.status!r}")
        if self.sequence < 0:
            raise ValueError("sequence is a revision number, 0 or more")


def session_uid(session_id: int) -> str:
    """The stable UID of a group session's event."""
    return f"session-{session_id}@{UID_DOMAIN}"


def session_event(group_label: str, session: SessionInfo, sequence: int = 0) -> CalendarEvent:
    """A neutral event for a group session: "Group <label> session <n>", nothing about its content."""
    ends_at = session.ends_at or session.starts_at + timedelta(minutes=DEFAULT_MINUTES)
    summary = f"Group {group_label} session {session.number}"
    return CalendarEvent(
        session_uid(session.id), summary, session.starts_at, ends_at, "", session.status, sequence
    )


def _vevent(event: CalendarEvent, now: datetime) -> Event:
    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", now.astimezone(UTC))
    vevent.add("dtstart", event.starts_at.astimezone(UTC))
    vevent.add("dtend", event.ends_at.astimezone(UTC))
    vevent.add("summary", event.summary)
    if event.description:
        vevent.add("description", event.description)
    vevent.add("status", _ICS_STATUS[event.status])
    vevent.add("sequence", event.sequence)
    # a cancelled session no longer blocks the facilitator's time in free/busy views
    vevent.add("transp", "TRANSPARENT" if event.status == "cancelled" else "OPAQUE")
    return vevent


def calendar_ics(facilitator_name: str, events: Iterable[CalendarEvent], now: datetime) -> bytes:
    """The feed as iCalendar bytes (UTF-8, CRLF); `now` stamps DTSTAMP, the time the feed was made."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{facilitator_name}: group sessions")
    cal.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(REFRESH))
    for event in sorted(events, key=lambda e: (e.starts_at, e.uid)):
        cal.add_component(_vevent(event, now))
    return cal.to_ical()
