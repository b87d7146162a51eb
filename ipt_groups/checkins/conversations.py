"""SMS check-ins in the database: planned with the cycle, opened when sent, answered by reply,
expired when late; the pure conversation rules live in surveys.py. Item 9 of the PHQ-9 reaches a human:
an answer above 0 or words that mean yes alert and put the crisis line in the reply; an unreadable
answer ends in a review alert; a late reply to the item-9 prompt still counts."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ipt_groups.checkins import instruments as surveys
from ipt_groups.checkins.alerts import raise_safety_alert
from ipt_groups.checkins.safety import crisis_line
from ipt_groups.cycles.templates import template_from_dict
from ipt_groups.extensions import db
from ipt_groups.messaging.outbox import plan_messages
from ipt_groups.messaging.timing import QuietHours, defer_out_of_quiet
from ipt_groups.models import Alert, Checkin, Cycle, GroupSession, IndividualMeeting, Member, Message

ITEM9_SOURCES = {surveys.SAFETY: "phq9_item9", surveys.ITEM9_UNKNOWN: "phq9_item9_unknown"}
AFTER_SESSION = timedelta(days=2)  # between sessions: the week's events are fresh, the next is days away
CHECKIN_WINDOW = timedelta(days=4)  # a check-in not sent by then is stale (the next session is near)


def ttl() -> timedelta:
    """How long a check-in stays open (CHECKIN_TTL_HOURS, 48 by default)."""
    return timedelta(hours=current_app.config.get("CHECKIN_TTL_HOURS", 48))


def plan_cycle_checkins(group, sessions, meetings, quiet: QuietHours, now: datetime) -> int:
    """One check-in per member per occasion: the PHQ-9 at the pre-group meeting, mid-cycle and at the
    end, the template's short check-in after the other sessions."""
    cycle = db.session.scalar(select(Cycle).filter_by(group_id=group.id))
    template = template_from_dict(cycle.template)
    members = [e.member for e in group.enrolments if e.left_on is None]
    return plan_messages(checkin_rows(template, members, sessions, meetings, quiet, now))


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


def open_checkin(message: Message, now: datetime) -> str:
    """Open the conversation a check-in message starts; returns its first SMS. An older open
    check-in is closed first (kept, marked incomplete): one conversation at a time."""
    close_open(message.member_id, now, "expired")
    conv, first = surveys.start_conversation(message.context["instrument"], now, ttl())
    db.session.add(
        Checkin(
            member_id=message.member_id,
            group_id=message.group_id,
            session_id=message.session_id,
            occasion=message.context.get("occasion", "weekly"),
            instrument=conv.instrument,
            answers=[],
            started_at=now,
            expires_at=conv.expires_at,
            status="open",
        )
    )
    db.session.flush()
    return first


def close_open(member_id: int, now: datetime, status: str) -> None:
    """Close the member's open check-in (STOP, a newer check-in) keeping its partial answers."""
    for checkin in db.session.scalars(select(Checkin).filter_by(member_id=member_id, status="open")):
        _close(checkin, status, now)
    db.session.flush()


def _close(checkin: Checkin, status: str, now: datetime) -> None:
    events = surveys.closing_events(_conversation(checkin))
    _score(checkin)
    checkin.status, checkin.completed_at = status, now
    if events:
        _alert_item9(checkin, db.session.get(Member, checkin.member_id), events, None, now)


def latest_for(member_id: int) -> Checkin | None:
    """The member's most recent check-in: the open one if any (opening one closes the others)."""
    query = (
        select(Checkin).filter_by(member_id=member_id).order_by(Checkin.started_at.desc(), Checkin.id.desc())
    )
    return db.session.scalar(query.limit(1))


def at_safety_item(checkin: Checkin) -> bool:
    """Whether the check-in waits for the answer to PHQ-9 item 9."""
    return surveys.at_safety_item(_conversation(checkin))


def answer_checkin(checkin: Checkin, member: Member, text: str, now: datetime) -> str | None:
    """Apply a reply to the open check-in; returns the next SMS, after the crisis line when item 9
    needs a human (the alert is raised here)."""
    step = surveys.answer(_conversation(checkin), text, now)
    checkin.answers, checkin.position = list(step.conv.answers), step.conv.position
    checkin.reprompted, checkin.status = step.conv.reprompted, step.conv.status
    if checkin.status != "open":
        checkin.completed_at = now
        _score(checkin)
    if not _alert_item9(checkin, member, step.events, text, now):
        return step.reply_text
    return " ".join(t for t in (crisis_line(member.language), step.reply_text) if t)


def answer_late(checkin: Checkin, member: Member, text: str, now: datetime) -> str | None:
    """A reply to the item-9 prompt of a closed check-in: the crisis line if it needs a human."""
    events = surveys.late_answer(_conversation(checkin), text)
    return crisis_line(member.language) if _alert_item9(checkin, member, events, text, now) else None


def _alert_item9(checkin: Checkin, member: Member, events, text: str | None, now: datetime) -> bool:
    """Alert a human for item-9 events, once per check-in while unacknowledged (a later reading
    joins the open alert); True when there was one."""
    found = [(name, payload) for name, payload in events if name in ITEM9_SOURCES]
    for name, payload in found:
        detail = {**payload, "checkin_id": checkin.id} | ({"answer": text[:160]} if text else {})
        alert = _open_item9_alert(checkin)
        if alert is None:
            raise_safety_alert(member, ITEM9_SOURCES[name], detail, now, checkin.session_id)
        else:
            later = [
                *alert.detail.get("later", []),
                {"source": ITEM9_SOURCES[name], **detail, "at": now.isoformat()},
            ]
            alert.detail = {**alert.detail, "later": later}
    return bool(found)


def _open_item9_alert(checkin: Checkin) -> Alert | None:
    query = select(Alert).filter_by(member_id=checkin.member_id, kind="safety", acknowledged_at=None)
    return next(
        (
            a
            for a in db.session.scalars(query)
            if a.detail.get("checkin_id") == checkin.id and a.detail.get("source") in ITEM9_SOURCES.values()
        ),
        None,
    )


def _conversation(checkin: Checkin) -> surveys.Conversation:
    return surveys.Conversation(
        checkin.instrument,
        tuple(checkin.answers),
        checkin.position,
        checkin.reprompted,
        checkin.started_at,
        checkin.expires_at,
        checkin.status,
    )


def _score(checkin: Checkin) -> None:
    result = surveys.score(checkin.instrument, checkin.answers)
    checkin.score, checkin.band, checkin.complete = result.total, result.band, result.complete


def expire_checkins(now: datetime) -> int:
    """Open check-ins past their time are closed, partial answers kept and marked incomplete."""
    expired = list(
        db.session.scalars(select(Checkin).where(Checkin.status == "open", Checkin.expires_at <= now))
    )
    for checkin in expired:
        _close(checkin, surveys.EXPIRED, now)
    db.session.flush()
    return len(expired)
