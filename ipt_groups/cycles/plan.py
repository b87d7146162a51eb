"""The plan of a group's messages as a function of its facts: `desired_messages(facts)`.

Pure: plain data in (the group's sessions, meetings, members, facilitator, what each member was told,
quiet hours, `now`), a mapping of dedupe key -> DesiredMessage out. No Flask, no database, no clock.
The reconciler (cycles/reconcile.py) makes the pending outbox rows of the group equal to it.

Rules
-----
- Reminders: each member who can be texted gets the 24 h and 2 h reminders of every scheduled session
  from the week they joined, and of each of their own scheduled individual meetings; the facilitator who
  leads the group now gets the 24 h roster reminder of every scheduled session. The key names the time
  the reminder is for (`m4:s17:reminder_24h:20270302T2300`): a reminder for a new time is a new message,
  so one sent for an old time is history and never stands in for the new one. Due times follow
  plan_reminder (earlier, never later, for quiet hours) and do not depend on `now`: a reminder whose
  moment has passed (a late move) is due at once, and the dispatcher holds it out of quiet hours.
- Every message is planned while its deadline (the meeting it is about, or the end of a check-in's
  window) is ahead; after it, the dispatcher expires what is left. So the plan changes with the facts,
  not with the clock, and the pending outbox equals the plan between any two changes.
- Check-ins: one per member per session (two days after it, outside quiet hours) and the PHQ-9 before
  the pre-group meeting; the key names the occasion, not the time (a check-in follows its session).
  Planned while its window is open, so START after STOP re-plans the rest of the cycle.
- Change notices: what a member knows of a session is the last notice they were sent about it (kept in
  `told`), else the time announced to everyone (the session's `announced` time). When the session's
  current state differs from that, one notice tells them (moved, cancelled, or cancelled with the rest
  shifted a week); when it is the same again (moved back before the notice went out), none. A notice's
  key counts the notices already sent for that member and session, so each net change is told once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

from ipt_groups.cycles.calendar import plan_reminder, rules_for
from ipt_groups.messaging.timing import QuietHours, defer_out_of_quiet

AFTER_SESSION = timedelta(days=2)  # between sessions: the week's events are fresh, the next is days away
CHECKIN_WINDOW = timedelta(days=4)  # a check-in not sent by then is stale (the next session is near)
MEMBER_SESSION_RULES = rules_for("member", "session")
PLANNED_KINDS = ("reminder_24h", "reminder_2h", "facilitator_24h", "checkin", "change_notice")


@dataclass(frozen=True)
class SessionFact:
    id: int
    number: int
    starts_at: datetime
    status: str  # scheduled, held, cancelled
    local_date: date
    announced: datetime  # the time everyone was last told


@dataclass(frozen=True)
class MeetingFact:
    id: int
    member_id: int
    kind: str
    starts_at: datetime
    status: str


@dataclass(frozen=True)
class MemberFact:
    id: int
    timezone: str
    reachable: bool  # consented and not opted out
    joined_on: date


@dataclass(frozen=True)
class Told:
    """What a member was last told of a session: its state and time."""

    status: str
    starts_at: datetime


@dataclass(frozen=True)
class GroupFacts:
    group_id: int
    facilitator_id: int | None
    facilitator_tz: str
    sessions: tuple[SessionFact, ...]
    meetings: tuple[MeetingFact, ...]
    members: tuple[MemberFact, ...]
    quiet: QuietHours
    now: datetime
    phq9_sessions: Mapping[int, str] = field(default_factory=dict)  # session number -> occasion
    weekly_instrument: str = "phq2"
    told: Mapping[tuple[int, int], Told] = field(default_factory=dict)  # (member, session) -> last notice
    notices_sent: Mapping[tuple[int, int], int] = field(default_factory=dict)  # notices no longer pending
    shifted_dates: frozenset[date] = frozenset()  # local dates cancelled with the rest shifted a week


@dataclass(frozen=True, slots=True)
class DesiredMessage:
    key: str
    kind: str
    due_at: datetime
    deadline_at: datetime | None
    context: Mapping
    member_id: int | None = None
    facilitator_id: int | None = None
    session_id: int | None = None
    meeting_id: int | None = None


@lru_cache(maxsize=4096)
def stamp(instant: datetime) -> str:
    """The UTC minute a reminder is for, as its key writes it."""
    return f"{instant:%Y%m%dT%H%M}"


def desired_messages(facts: GroupFacts) -> dict[str, DesiredMessage]:
    """Every message the group's facts call for, by dedupe key."""
    out: dict[str, DesiredMessage] = {}
    members = [m for m in facts.members if m.reachable]
    for s in facts.sessions:
        expected = [m for m in members if m.joined_on <= s.local_date]
        if s.status == "scheduled":
            for m in expected:
                _session_reminders(out, facts, s, m)
            _facilitator_reminder(out, facts, s)
        if s.status != "cancelled":  # a held session's check-in still goes, two days after it
            for m in expected:
                _session_checkin(out, facts, s, m)
        for m in members:
            _notice(out, facts, s, m)
    by_id = {m.id: m for m in members}
    for meeting in facts.meetings:
        member = by_id.get(meeting.member_id)
        if meeting.status == "scheduled" and member is not None:
            _meeting_messages(out, facts, meeting, member)
    return out


def _add(out: dict, message: DesiredMessage) -> None:
    out[message.key] = message


@lru_cache(maxsize=4096)
def _reminder_due(starts_at: datetime, offset: timedelta, tz: str, quiet: QuietHours) -> datetime:
    """plan_reminder, once per start, offset and zone (members share zones)."""
    return plan_reminder(starts_at, offset, tz, quiet)


@lru_cache(maxsize=4096)
def _checkin_due(starts_at: datetime, tz: str, quiet: QuietHours) -> datetime:
    return checkin_due(starts_at, tz, quiet)


def _session_reminders(out: dict, facts: GroupFacts, s: SessionFact, m: MemberFact) -> None:
    for rule in MEMBER_SESSION_RULES:
        due = _reminder_due(s.starts_at, rule.offset, m.timezone, facts.quiet)
        if s.starts_at > facts.now:
            key = f"m{m.id}:s{s.id}:{rule.kind}:{stamp(s.starts_at)}"
            _add(out, DesiredMessage(key, rule.kind, due, s.starts_at, {}, member_id=m.id, session_id=s.id))


def _facilitator_reminder(out: dict, facts: GroupFacts, s: SessionFact) -> None:
    if facts.facilitator_id is None:
        return
    for rule in rules_for("facilitator", "session"):
        due = _reminder_due(s.starts_at, rule.offset, facts.facilitator_tz, facts.quiet)
        if s.starts_at > facts.now:
            key = f"f{facts.facilitator_id}:s{s.id}:{rule.kind}:{stamp(s.starts_at)}"
            message = DesiredMessage(
                key, rule.kind, due, s.starts_at, {}, facilitator_id=facts.facilitator_id, session_id=s.id
            )
            _add(out, message)


def checkin_due(session_starts_at: datetime, tz: str, quiet: QuietHours) -> datetime:
    """When the check-in after a session goes out: two days later, outside quiet hours."""
    return defer_out_of_quiet(session_starts_at + AFTER_SESSION, tz, quiet)


def _session_checkin(out: dict, facts: GroupFacts, s: SessionFact, m: MemberFact) -> None:
    due = _checkin_due(s.starts_at, m.timezone, facts.quiet)
    deadline = due + CHECKIN_WINDOW
    if deadline <= facts.now:
        return  # its window has closed
    occasion = facts.phq9_sessions.get(s.number, "weekly")
    instrument = "phq9" if occasion != "weekly" else facts.weekly_instrument
    context = {"instrument": instrument, "occasion": occasion}
    key = f"m{m.id}:s{s.id}:checkin"
    _add(out, DesiredMessage(key, "checkin", due, deadline, context, member_id=m.id, session_id=s.id))


def _meeting_messages(out: dict, facts: GroupFacts, meeting: MeetingFact, m: MemberFact) -> None:
    for rule in rules_for("member", "meeting"):
        due = _reminder_due(meeting.starts_at, rule.offset, m.timezone, facts.quiet)
        if meeting.starts_at > facts.now:
            key = f"m{m.id}:im{meeting.id}:{rule.kind}:{stamp(meeting.starts_at)}"
            _add(
                out,
                DesiredMessage(
                    key, rule.kind, due, meeting.starts_at, {}, member_id=m.id, meeting_id=meeting.id
                ),
            )
    if meeting.kind == "pre_group" and meeting.starts_at > facts.now:
        due = defer_out_of_quiet(meeting.starts_at - timedelta(days=1), m.timezone, facts.quiet)
        context = {"instrument": "phq9", "occasion": "pre_group"}
        key = f"m{m.id}:im{meeting.id}:checkin"
        _add(
            out,
            DesiredMessage(
                key, "checkin", due, meeting.starts_at, context, member_id=m.id, meeting_id=meeting.id
            ),
        )


def _notice(out: dict, facts: GroupFacts, s: SessionFact, m: MemberFact) -> None:
    told = facts.told.get((m.id, s.id)) or Told("scheduled", s.announced)
    if told.status == "cancelled" or (told.status == s.status and told.starts_at == s.starts_at):
        return
    if s.status == "held":
        return
    cancelled = s.status == "cancelled"
    deadline = told.starts_at if cancelled else s.starts_at  # it matters until the meeting it tells of
    if deadline <= facts.now:
        return
    if cancelled:
        text = "session_cancelled"
    elif told.starts_at < s.starts_at and _shifted_between(facts, told.starts_at, s):
        text = "session_cancelled_shifted"
    elif _new_weekly_time(facts, s, told.starts_at):
        text = "session_slot_moved"
    else:
        text = "session_moved"
    n = facts.notices_sent.get((m.id, s.id), 0)
    context = {
        "text": text,
        "old_start": told.starts_at.isoformat(),
        "new_start": s.starts_at.isoformat(),
        "status": s.status,
    }
    key = f"m{m.id}:s{s.id}:notice:{n}"
    _add(
        out,
        DesiredMessage(key, "change_notice", facts.now, deadline, context, member_id=m.id, session_id=s.id),
    )


def _whole_weeks_apart(a: datetime, b: datetime) -> bool:
    """Whether two starts are the same time of the week (within the hour a DST change makes)."""
    off = (b - a).total_seconds() % (7 * 86400)
    return min(off, 7 * 86400 - off) <= 3600


def _new_weekly_time(facts: GroupFacts, s: SessionFact, told: datetime) -> bool:
    """The group's weekly time changed with this session: it left the time of the week the member knew,
    and the next session, already announced, is at its new time a whole number of weeks on."""
    if _whole_weeks_apart(told, s.starts_at):
        return False
    later = [x for x in facts.sessions if x.number > s.number and x.status == "scheduled"]
    return (
        bool(later)
        and later[0].announced == later[0].starts_at
        and _whole_weeks_apart(s.starts_at, later[0].starts_at)
    )


def _shifted_between(facts: GroupFacts, told: datetime, s: SessionFact) -> bool:
    """Whether the date the member knew for this session was cancelled with the rest shifted."""
    told_date = s.local_date - timedelta(days=round((s.starts_at - told).total_seconds() / 86400))
    return told_date in facts.shifted_dates


def same_plan(row: Mapping, desired: DesiredMessage) -> bool:
    """Whether a pending row already says what `desired` says (a notice's due time is when it was
    first planned, so it is not compared). `context` may be the stored JSON text: it is parsed only
    when it is not the plan's own text."""
    if desired.kind != "change_notice" and row["due_at"] != desired.due_at:
        return False
    if (
        row["deadline_at"] != desired.deadline_at
        or row["member_id"] != desired.member_id
        or row["facilitator_id"] != desired.facilitator_id
        or row["session_id"] != desired.session_id
        or row["meeting_id"] != desired.meeting_id
    ):
        return False
    context = row["context"]
    if isinstance(context, str):
        if context == context_text(desired.context):
            return True
        context = json.loads(context) if context else {}
    return dict(context or {}) == dict(desired.context)


@lru_cache(maxsize=256)
def _context_text(items: tuple) -> str:
    return json.dumps(dict(items))


def context_text(context: Mapping) -> str:
    """A context as the outbox stores it (JSON as json.dumps writes it)."""
    return _context_text(tuple(context.items()))
