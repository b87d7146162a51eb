"""Reminders and change notices as outbox rows: planned with the cycle, moved with their session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ipt_groups.checkins.planning import CHECKIN_WINDOW, checkin_due
from ipt_groups.cycles.calendar import DEFAULT_REMINDERS, plan_reminder, rules_for
from ipt_groups.extensions import db
from ipt_groups.messaging.outbox import cancel_pending, plan_messages, plan_once
from ipt_groups.messaging.timing import QuietHours
from ipt_groups.models import Facilitator, Group, GroupSession, IndividualMeeting, Member, Message

REMINDER_OFFSETS = {rule.kind: rule.offset for rule in DEFAULT_REMINDERS}


def session_rows(
    group: Group, session: GroupSession, members: list[Member], quiet: QuietHours, now: datetime
):
    """The reminder rows of one session for these members and the group's facilitator."""
    facilitator = group.facilitator
    rows = [
        _row("m", m, r, session.starts_at, quiet, now, session_id=session.id, group_id=group.id)
        for m in members
        for r in rules_for("member", "session")
    ]
    rows += [
        _row("f", facilitator, r, session.starts_at, quiet, now, session_id=session.id, group_id=group.id)
        for r in rules_for("facilitator", "session")
    ]
    return [r for r in rows if r]


def meeting_rows(meeting: IndividualMeeting, member: Member, quiet: QuietHours, now: datetime):
    """The reminder rows of one individual meeting."""
    rows = [
        _row("m", member, r, meeting.starts_at, quiet, now, meeting_id=meeting.id, group_id=meeting.group_id)
        for r in rules_for("member", "meeting")
    ]
    return [r for r in rows if r]


def _row(prefix: str, person, rule, starts_at: datetime, quiet: QuietHours, now: datetime, **subject):
    due = plan_reminder(starts_at, rule.offset, person.timezone, quiet, now)
    if due is None:
        return None
    subject_key = f"s{subject['session_id']}" if subject.get("session_id") else f"im{subject['meeting_id']}"
    who = {"member_id": person.id} if prefix == "m" else {"facilitator_id": person.id}
    return {
        "dedupe_key": f"{prefix}{person.id}:{subject_key}:{rule.kind}",
        "kind": rule.kind,
        "due_at": due,
        "deadline_at": starts_at,
        "context": {},
        **who,
        **subject,
    }


def plan_cycle_reminders(group, sessions, meetings, quiet: QuietHours, now: datetime) -> int:
    """Plan every reminder of a new cycle."""
    members = group.current_members
    by_id = {m.id: m for m in members}
    rows = [row for s in sessions for row in session_rows(group, s, members, quiet, now)]
    rows += [row for m in meetings for row in meeting_rows(m, by_id[m.member_id], quiet, now)]
    return plan_messages(rows)


def member_session_rows(
    group: Group, member: Member, sessions, quiet: QuietHours, now: datetime
) -> list[dict]:
    """A late joiner's reminders for the sessions still to come (not the facilitator's)."""
    rows = [r for s in sessions for r in session_rows(group, s, [member], quiet, now)]
    return [r for r in rows if r.get("member_id")]


def follow_session_change(group, session, old_start: str | None, notice: str | None, quiet, now) -> None:
    """Move the session's pending reminders to its new time and tell each member once."""
    pending = select(Message).where(Message.session_id == session.id, Message.state == "pending")
    for message in db.session.scalars(pending):
        _retime(message, session.starts_at, quiet, now)
    if notice:
        _notify_members(group, session, notice, old_start, now)


def _retime(message: Message, starts_at: datetime, quiet: QuietHours, now: datetime) -> None:
    if message.kind == "checkin":  # it follows the session, two days after it
        message.due_at = checkin_due(starts_at, _timezone_of(message), quiet)
        message.deadline_at = message.due_at + CHECKIN_WINDOW
        return
    offset = REMINDER_OFFSETS.get(message.kind)
    if offset is None:  # a notice: it stays due now, but must not outlive the new start
        message.deadline_at = starts_at
        return
    tz = _timezone_of(message)
    due = plan_reminder(starts_at, offset, tz, quiet, now)
    if due is None:
        message.state, message.reason = "cancelled", "the session moved too close to send this reminder"
    else:
        message.due_at, message.deadline_at = due, starts_at


def _timezone_of(message: Message) -> str:
    if message.member_id is not None:
        return db.session.get(Member, message.member_id).timezone
    return db.session.get(Facilitator, message.facilitator_id).timezone


def _notify_members(group, session, notice: str, old_start: str | None, now: datetime) -> None:
    """One notice per member; the old time is written when it is sent, in the member's language."""
    for member in group.current_members:
        key = f"m{member.id}:s{session.id}:{notice}:{session.starts_at:%Y%m%dT%H%M}"
        plan_once(
            {
                "dedupe_key": key,
                "kind": "change_notice",
                "member_id": member.id,
                "group_id": group.id,
                "session_id": session.id,
                "due_at": now,
                "deadline_at": session.starts_at,
                "context": {"text": notice, "old_start": old_start or ""},
            }
        )


def cancel_session_messages(group, session, old_start: str, now: datetime) -> None:
    """A cancelled session: its reminders are cancelled and each member is told once."""
    cancel_pending(Message.session_id == session.id, reason="the session was cancelled")
    _notify_members(group, session, "session_cancelled", old_start, now)
    db.session.flush()
