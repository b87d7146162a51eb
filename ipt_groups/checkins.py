"""SMS check-ins in the database: planned with the cycle, opened when sent, answered by reply,
expired when late; the pure conversation rules live in surveys.py."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ipt_groups import surveys
from ipt_groups.alerts import raise_safety_alert
from ipt_groups.cycle_templates import template_from_dict
from ipt_groups.cycles import QuietHours, defer_out_of_quiet
from ipt_groups.extensions import db
from ipt_groups.messaging.outbox import plan_messages
from ipt_groups.models import Checkin, Cycle, GroupSession, IndividualMeeting, Member, Message

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
        _score(checkin)
        checkin.status, checkin.completed_at = status, now
    db.session.flush()


def open_for(member_id: int) -> Checkin | None:
    """The member's open check-in, if any."""
    return db.session.scalar(select(Checkin).filter_by(member_id=member_id, status="open"))


def answer_checkin(checkin: Checkin, member: Member, text: str, now: datetime) -> str | None:
    """Apply a reply to the open check-in; returns the next SMS. Item 9 above 0 alerts a human."""
    step = surveys.answer(_conversation(checkin), text, now)
    checkin.answers, checkin.position = list(step.conv.answers), step.conv.position
    checkin.reprompted, checkin.status = step.conv.reprompted, step.conv.status
    for name, payload in step.events:
        if name == "safety":
            raise_safety_alert(
                member, "phq9_item9", {**payload, "checkin_id": checkin.id}, now, checkin.session_id
            )
    if checkin.status != "open":
        checkin.completed_at = now
        _score(checkin)
    return step.reply_text


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
        checkin.status = surveys.expire(_conversation(checkin), now).status
        checkin.completed_at = now
        _score(checkin)
    db.session.flush()
    return len(expired)
