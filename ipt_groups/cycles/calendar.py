"""Cycle arithmetic: session dates, daylight saving, reschedule and cancel, when reminders go.

Pure functions over plain data: no Flask, no database, no clock (callers pass `now`). Instants are
timezone-aware UTC; a group's slot (date, local start, IANA timezone) is wall-clock time.

Rules
-----
Wall clock and daylight saving. A group meets at the same *local* time every week, so its UTC start moves
when the clocks change. A local time that does not exist (in the spring-forward **gap**) moves forward by
the gap's length: 02:30 on a night the clocks jump 02:00 -> 03:00 becomes 03:30. A local time that happens
twice (in the autumn **fold**) takes the first occurrence, the earlier instant (fold=0).

Cycle calendar. Sessions are weekly on the first date's weekday at the group's local start. A skipped date
pushes that session and every later one a week, so the cycle keeps its N sessions; skip dates off the
weekly cadence change nothing. Default individual meetings (each can be moved later by the coordinator),
at the group's local start time: pre_group 7 days before session 1; mid_group 3 days after the session it
follows; post_group 6 days after the last session (within the week after the group ends).

Changes. Sessions listed in `held_numbers`, or (when `now` is given) whose start is not in the future,
cannot be moved or cancelled. A session cannot be moved within session_minutes of another session of the
group, nor past its neighbours (session 5 stays between 4 and 6). Cancelling with shift moves that
session and every later one a week at the same local time; without shift the session is simply dropped.

Quiet hours are [start, end) in the recipient's own timezone; start > end crosses midnight; start == end
means no quiet hours. A reminder due inside them is sent EARLIER, at the minute before they begin (20:59
for a 21:00 start), never later, so it always arrives before the session. If its planned time has already
passed (`now` given), it goes at the first allowed instant before the session; only when there is none
is it dropped (None). A message without a deadline found due in quiet hours waits for their end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ipt_groups.cycles.templates import CycleError, CycleTemplate, MeetingSpec, phase_of
from ipt_groups.messaging.timing import QuietHours, defer_out_of_quiet, in_quiet_hours

WEEK = timedelta(days=7)
# days from the anchor session to each individual meeting's default date
MEETING_DAY_OFFSETS = {"pre_group": -7, "mid_group": 3, "post_group": 6}


# --- wall-clock time ---------------------------------------------------------------------------------


def zone(tz: str) -> ZoneInfo:
    """The IANA timezone `tz`; raises CycleError if it is unknown."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise CycleError({"tz": [f"{tz!r} is not a known timezone"]}) from None


def local_to_utc(d: date, t: time, tz: str) -> datetime:
    """The UTC instant of wall-clock `t` on `d` in `tz` (gap: forward by its length; fold: first)."""
    # fold=0 is PEP 495's "offset before the transition", which gives both documented rules at once
    wall = datetime.combine(d, t.replace(tzinfo=None, fold=0), tzinfo=zone(tz))
    return wall.astimezone(UTC)


# --- planning a cycle --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedSession:
    """One group session: its number, phase, local slot and UTC interval."""

    number: int
    phase: str
    local_date: date
    local_start: time
    starts_at: datetime
    ends_at: datetime

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


@dataclass(frozen=True)
class PlannedMeeting:
    """One individual meeting slot of a kind; the caller makes one per member."""

    kind: str
    local_date: date
    local_start: time
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class CyclePlan:
    """The dated sessions and default individual meetings of a cycle."""

    template: CycleTemplate
    tz: str
    sessions: list[PlannedSession]
    meetings: list[PlannedMeeting]


def dated_session(number: int, phase: str, d: date, t: time, tz: str, minutes: int) -> PlannedSession:
    """A session at wall-clock `t` on `d`; its local date and time are those of the instant it really
    starts (02:30 in a spring-forward gap starts, and reads, 03:30)."""
    if minutes <= 0:
        raise CycleError({"session_minutes": ["must be a positive number of minutes"]})
    try:
        starts_at = local_to_utc(d, t, tz)
    except OverflowError:
        raise CycleError(
            {"local_date": [f"{d.isoformat()} is beyond the dates the calendar can hold"]}
        ) from None
    real = starts_at.astimezone(zone(tz))
    local_date, local_start = real.date(), real.time().replace(tzinfo=None, fold=0)
    return PlannedSession(
        number, phase, local_date, local_start, starts_at, starts_at + timedelta(minutes=minutes)
    )


def plan_cycle(
    template: CycleTemplate,
    first_date: date,
    local_start: time,
    tz: str,
    skip_dates: set[date] | frozenset[date] = frozenset(),
    session_minutes: int | None = None,
) -> CyclePlan:
    """Date every session weekly from `first_date`, pushing past skipped dates, and the meetings."""
    minutes = template.session_minutes if session_minutes is None else session_minutes
    sessions, day = [], first_date
    try:
        for number in range(1, template.sessions + 1):
            while day in skip_dates:
                day += WEEK
            sessions.append(dated_session(number, phase_of(template, number), day, local_start, tz, minutes))
            day += WEEK
        meetings = plan_meetings(template, sessions, tz)
    except (OverflowError, CycleError) as exc:
        if isinstance(exc, CycleError) and "local_date" not in exc.errors:
            raise
        last = "the cycle's last dates"
        raise CycleError({"first_date": [f"{first_date.isoformat()} puts {last} beyond year 9999"]}) from None
    return CyclePlan(template, tz, sessions, meetings)


def plan_meetings(template: CycleTemplate, sessions: list[PlannedSession], tz: str) -> list[PlannedMeeting]:
    """Default slots of the template's individual meetings around the given sessions."""
    return [_meeting(spec, sessions, tz) for spec in template.meetings if sessions]


def _meeting(spec: MeetingSpec, sessions: list[PlannedSession], tz: str) -> PlannedMeeting:
    anchor = {"pre_group": sessions[0], "post_group": sessions[-1]}.get(spec.kind)
    if anchor is None:  # mid_group: the session it follows, or the last one held before it
        earlier = [s for s in sessions if s.number <= (spec.after_session or 0)]
        anchor = max(earlier, key=lambda s: s.number, default=sessions[0])
    d = anchor.local_date + timedelta(days=MEETING_DAY_OFFSETS[spec.kind])
    starts_at = local_to_utc(d, anchor.local_start, tz)
    ends_at = starts_at + timedelta(minutes=spec.minutes)
    return PlannedMeeting(spec.kind, d, anchor.local_start, starts_at, ends_at)


def validate_first_date(first_date: date, now: datetime, tz: str) -> None:
    """Raise CycleError if `first_date` is before today in the group's timezone."""
    today = now.astimezone(zone(tz)).date()
    if first_date < today:
        raise CycleError({"first_date": [f"{first_date.isoformat()} is in the past (today is {today})"]})


# --- changes -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionMove:
    """A session whose start changed, so the caller can move its messages."""

    number: int
    old_starts_at: datetime
    new_starts_at: datetime


@dataclass(frozen=True)
class CancelResult:
    """Sessions after a cancellation, the cancelled occurrence, and the sessions that moved."""

    sessions: list[PlannedSession]
    cancelled: PlannedSession
    moves: list[SessionMove]


def _find(sessions: list[PlannedSession], number: int) -> PlannedSession:
    found = next((s for s in sessions if s.number == number), None)
    if found is None:
        raise CycleError({"number": [f"the cycle has no scheduled session {number}"]})
    return found


def _check_changeable(session: PlannedSession, held_numbers: set[int], now: datetime | None) -> None:
    if session.number in held_numbers:
        raise CycleError({"number": [f"session {session.number} has been held and cannot change"]})
    if now is not None and session.starts_at <= now:
        raise CycleError({"number": [f"session {session.number} has already started and cannot change"]})


def move_session(
    plan_sessions: list[PlannedSession],
    number: int,
    new_local_date: date,
    new_local_start: time,
    tz: str,
    session_minutes: int | None = None,
    *,
    held_numbers: set[int] | frozenset[int] = frozenset(),
    now: datetime | None = None,
) -> list[PlannedSession]:
    """Move one session to a new local slot; raises CycleError for a held, past or clashing slot."""
    current = _find(plan_sessions, number)
    _check_changeable(current, held_numbers, now)
    minutes = current.minutes if session_minutes is None else session_minutes
    moved = dated_session(number, current.phase, new_local_date, new_local_start, tz, minutes)
    if now is not None and moved.starts_at <= now:
        raise CycleError({"local_date": ["the new time is in the past"]})
    _check_clashes(moved, plan_sessions, minutes)
    return [moved if s.number == number else s for s in plan_sessions]


def _check_clashes(moved: PlannedSession, sessions: list[PlannedSession], minutes: int) -> None:
    others = [s for s in sessions if s.number != moved.number]
    near = [s.number for s in others if abs(s.starts_at - moved.starts_at) < timedelta(minutes=minutes)]
    if near:
        raise CycleError({"local_start": [f"is within {minutes} minutes of session {near[0]}"]})
    # numbers are the order of the programme's content, so a session may not overtake a neighbour
    before = [s.number for s in others if s.number < moved.number and s.starts_at >= moved.starts_at]
    after = [s.number for s in others if s.number > moved.number and s.starts_at <= moved.starts_at]
    if before or after:
        neighbour = max(before) if before else min(after)
        raise CycleError({"local_date": [f"session {moved.number} would not stay in order with {neighbour}"]})


def cancel_session(
    sessions: list[PlannedSession],
    number: int,
    shift: bool,
    tz: str,
    *,
    held_numbers: set[int] | frozenset[int] = frozenset(),
    now: datetime | None = None,
) -> CancelResult:
    """Cancel a session; with shift it and every later session move a week later, keeping N sessions."""
    target = _find(sessions, number)
    _check_changeable(target, held_numbers, now)
    if not shift:
        return CancelResult([s for s in sessions if s.number != number], target, [])
    out, moves = [], []
    for s in sessions:
        if s.number >= number:
            later = dated_session(s.number, s.phase, s.local_date + WEEK, s.local_start, tz, s.minutes)
            moves.append(SessionMove(s.number, s.starts_at, later.starts_at))
            s = later
        out.append(s)
    return CancelResult(out, target, moves)


# --- reminders (quiet hours: messaging/timing.py) ---------------------------------------------------


@dataclass(frozen=True)
class ReminderRule:
    """Send `kind` to `audience` `offset` before each occasion ("session" or "meeting")."""

    audience: str  # "member" or "facilitator"
    kind: str
    offset: timedelta
    occasions: tuple[str, ...] = ("session", "meeting")


DEFAULT_REMINDERS: tuple[ReminderRule, ...] = (
    ReminderRule("member", "reminder_24h", timedelta(hours=24)),
    ReminderRule("member", "reminder_2h", timedelta(hours=2)),
    ReminderRule("facilitator", "facilitator_24h", timedelta(hours=24), ("session",)),
)


def rules_for(
    audience: str, occasion: str, rules: tuple[ReminderRule, ...] = DEFAULT_REMINDERS
) -> tuple[ReminderRule, ...]:
    """The reminder rules that apply to this audience for a session or an individual meeting."""
    return tuple(r for r in rules if r.audience == audience and occasion in r.occasions)


def _quiet_began(instant: datetime, tz: str, quiet: QuietHours) -> datetime:
    local = instant.astimezone(zone(tz))
    day = local.date()
    if quiet.crosses_midnight and local.time() < quiet.end:
        day -= timedelta(days=1)  # after midnight: tonight's quiet hours began yesterday evening
    return local_to_utc(day, quiet.start, tz)


def plan_reminder(
    session_start_utc: datetime,
    offset: timedelta,
    recipient_tz: str,
    quiet: QuietHours,
    now: datetime | None = None,
) -> datetime | None:
    """When to send a reminder `offset` before a start: earlier if quiet, None only if no time is left."""
    if offset <= timedelta(0):
        raise CycleError({"offset": ["a reminder must come before the session"]})
    send = session_start_utc - offset
    if in_quiet_hours(send, recipient_tz, quiet):
        send = _quiet_began(send, recipient_tz, quiet) - timedelta(minutes=1)
    if now is None or send >= now:
        return send
    # the planned moment has passed (late change, downtime): as soon as allowed, if still useful
    soonest = defer_out_of_quiet(now, recipient_tz, quiet)
    return soonest if soonest < session_start_utc else None
