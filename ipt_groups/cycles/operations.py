"""A group's cycle in the database: start it, move or cancel a session; every planned message
follows in the same transaction."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from ipt_groups.audit import record_change, snapshot
from ipt_groups.cycles import calendar
from ipt_groups.cycles.reconcile import quiet_hours, reconcile_group
from ipt_groups.cycles.templates import (
    TEMPLATES,
    CycleError,
    CycleTemplate,
    template_from_dict,
    template_to_dict,
)
from ipt_groups.errors import Conflict, InvalidInput
from ipt_groups.extensions import db
from ipt_groups.models import Cycle, CycleTemplateRow, Group, GroupSession, IndividualMeeting
from ipt_groups.time_of_day import parse_hhmm
from ipt_groups.vocabulary import DAYS

__all__ = ["quiet_hours"]  # re-exported: the programme's quiet hours, read where the plan is made


def _time(text: str) -> time:
    minutes = parse_hhmm(text.strip())
    return time(minutes // 60, minutes % 60)


def resolve_template(key: str) -> CycleTemplate:
    """A built-in template or a coordinator's own; 422 naming `template` if neither."""
    if key in TEMPLATES:
        return TEMPLATES[key]
    row = db.session.scalar(select(CycleTemplateRow).filter_by(key=key))
    if row is None:
        known = ", ".join(sorted(TEMPLATES))
        raise InvalidInput(
            "unknown template", {"template": [f"{key!r} is not a template (built in: {known})"]}
        )
    return template_from_dict(row.definition)


def create_template(doc: dict, actor: str, now: datetime) -> CycleTemplateRow:
    """Save a coordinator's template after checking its phases cover 1..N in order."""
    try:
        template = template_from_dict(doc)
    except CycleError as exc:
        raise InvalidInput("the template is not valid", exc.errors) from exc
    if template.key in TEMPLATES or db.session.scalar(
        select(CycleTemplateRow.id).filter_by(key=template.key)
    ):
        raise Conflict("template exists", {"key": [f"a template {template.key!r} already exists"]})
    row = CycleTemplateRow(key=template.key, definition=template_to_dict(template), created_at=now)
    db.session.add(row)
    db.session.flush()
    record_change(actor, "template.create", row, None, snapshot(row))
    return row


def start_cycle(group: Group, data: dict, actor: str, now: datetime) -> Cycle:
    """Date every session and individual meeting of the group's cycle and plan its reminders."""
    if db.session.scalar(select(Cycle.id).filter_by(group_id=group.id)):
        raise Conflict("the group already has a cycle", {"group_id": [f"group {group.id} has a cycle"]})
    template = resolve_template(data.get("template") or "ipt-g-12")
    plan = _plan(group, template, data["first_date"], set(data.get("skip_dates", ())), now)
    cycle = Cycle(
        group_id=group.id,
        template_key=template.key,
        template=template_to_dict(template),
        first_date=data["first_date"],
        skip_dates=[d.isoformat() for d in data.get("skip_dates", ())],
        created_at=now,
    )
    db.session.add(cycle)
    sessions = [_session_row(group, s, now) for s in plan.sessions]
    meetings = _meeting_rows(group, plan.meetings)
    db.session.add_all(sessions + meetings)
    group.status = "scheduled"
    db.session.flush()
    reconcile_group(group.id, now, "the cycle was planned")
    record_change(actor, "cycle.create", cycle, None, snapshot(cycle))
    return cycle


def _plan(group: Group, template: CycleTemplate, first: date, skips: set[date], now: datetime):
    errors = {}
    if DAYS[first.weekday()] != group.day:
        errors["first_date"] = [f"{first} is a {DAYS[first.weekday()]}; the group meets on {group.day}"]
    try:
        calendar.validate_first_date(first, now, group.timezone)
    except CycleError as exc:
        errors.setdefault("first_date", []).extend(exc.errors["first_date"])
    if errors:
        raise InvalidInput("the cycle cannot start then", errors)
    try:
        return calendar.plan_cycle(
            template, first, _time(group.start_time), group.timezone, skips, group.session_minutes
        )
    except CycleError as exc:
        raise InvalidInput("the cycle cannot start then", exc.errors) from exc


def _session_row(group: Group, s: calendar.PlannedSession, now: datetime) -> GroupSession:
    return GroupSession(
        announced_starts_at=s.starts_at,
        announced_at=now,
        group_id=group.id,
        number=s.number,
        phase=s.phase,
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        local_date=s.local_date,
        local_start=s.local_start.strftime("%H:%M"),
        status="scheduled",
    )


def _meeting_rows(group: Group, planned: list[calendar.PlannedMeeting]) -> list[IndividualMeeting]:
    members = group.current_members
    return [
        IndividualMeeting(
            group_id=group.id,
            member_id=m.id,
            kind=p.kind,
            starts_at=p.starts_at,
            ends_at=p.ends_at,
            status="scheduled",
        )
        for m in members
        for p in planned
    ]


def planned_session(row: GroupSession) -> calendar.PlannedSession:
    return calendar.PlannedSession(
        row.number, row.phase, row.local_date, _time(row.local_start), row.starts_at, row.ends_at
    )


def _group_sessions(group_id: int) -> list[GroupSession]:
    query = select(GroupSession).filter_by(group_id=group_id).order_by(GroupSession.number)
    return list(db.session.scalars(query))


def _changeable(session: GroupSession, rows: list[GroupSession]):
    if session.status == "cancelled":
        raise Conflict("session cancelled", {"status": [f"session {session.number} is already cancelled"]})
    live = [r for r in rows if r.status != "cancelled"]
    held = {r.number for r in rows if r.status == "held"}
    return live, held


def move_session(
    session: GroupSession, new_date: date, new_start: str, actor: str, now: datetime
) -> GroupSession:
    """Move one session to a new local date and time; its reminders follow and members are told."""
    group = db.session.get(Group, session.group_id)
    rows = _group_sessions(group.id)
    live, held = _changeable(session, rows)
    try:
        moved = calendar.move_session(
            [planned_session(r) for r in live],
            session.number,
            new_date,
            _time(new_start),
            group.timezone,
            held_numbers=held,
            now=now,
        )
    except CycleError as exc:
        raise _refusal(exc) from exc
    before = snapshot(session)
    _apply(session, next(p for p in moved if p.number == session.number))
    _replan_meetings(group, now)
    db.session.flush()
    reconcile_group(group.id, now, f"session {session.number} moved")
    record_change(actor, "session.move", session, before, snapshot(session))
    return session


def cancel_session(
    session: GroupSession, shift: bool, reason: str | None, actor: str, now: datetime
) -> GroupSession:
    """Cancel a session; with shift the rest of the cycle moves a week later and keeps N sessions."""
    group = db.session.get(Group, session.group_id)
    rows = _group_sessions(group.id)
    live, held = _changeable(session, rows)
    try:
        result = calendar.cancel_session(
            [planned_session(r) for r in live],
            session.number,
            shift,
            group.timezone,
            held_numbers=held,
            now=now,
        )
    except CycleError as exc:
        raise _refusal(exc) from exc
    before = snapshot(session)
    if shift:
        _shift(group, live, result, now)
        why = f"session {session.number} was cancelled and the rest shifted a week"
    else:
        session.status, session.cancel_reason, session.revision = "cancelled", reason, session.revision + 1
        why = f"session {session.number} was cancelled"
    _replan_meetings(group, now)
    db.session.flush()
    reconcile_group(group.id, now, why)
    record_change(actor, "session.cancel", session, before, {**snapshot(session), "shift": shift})
    return session


def _shift(group: Group, live: list[GroupSession], result: calendar.CancelResult, now: datetime) -> None:
    """Every session from the cancelled one on moves a week. The cancelled date is recorded in the
    cycle's skip dates (a date the cycle skips); the cancelled session's notice tells members, and says
    the rest move one week later, so the later sessions' announced times move along with them."""
    by_number = {r.number: r for r in live}
    for planned in result.sessions:
        _apply(by_number[planned.number], planned)
    for move in result.moves:
        row = by_number[move.number]
        if move.number != result.cancelled.number and row.announced_starts_at is not None:
            told = row.announced_starts_at.astimezone(calendar.zone(group.timezone))
            row.announced_starts_at = calendar.local_to_utc(
                told.date() + calendar.WEEK, told.time(), group.timezone
            )
            row.announced_at = now
    cycle = db.session.scalar(select(Cycle).filter_by(group_id=group.id))
    cancelled = result.cancelled.local_date.isoformat()
    cycle.skip_dates = sorted({*(cycle.skip_dates or []), cancelled})


def _replan_meetings(group: Group, now: datetime) -> None:
    """Individual meetings not booked by hand stay where the template puts them around the sessions
    (a mid-group meeting between its sessions, the post-group one after the last), once they move."""
    cycle = db.session.scalar(select(Cycle).filter_by(group_id=group.id))
    template = template_from_dict(cycle.template)
    live = [planned_session(r) for r in _group_sessions(group.id) if r.status != "cancelled"]
    defaults = {p.kind: p for p in calendar.plan_meetings(template, live, group.timezone)}
    meetings = db.session.scalars(select(IndividualMeeting).filter_by(group_id=group.id, status="scheduled"))
    for meeting in meetings:
        planned = defaults.get(meeting.kind)
        if meeting.moved_by_hand or planned is None or meeting.starts_at <= now:
            continue
        if planned.starts_at != meeting.starts_at and planned.starts_at > now:
            meeting.starts_at, meeting.ends_at = planned.starts_at, planned.ends_at
            meeting.revision += 1


def _apply(row: GroupSession, planned: calendar.PlannedSession) -> None:
    if row.starts_at != planned.starts_at:
        row.revision += 1
    row.starts_at, row.ends_at = planned.starts_at, planned.ends_at
    row.local_date, row.local_start = planned.local_date, planned.local_start.strftime("%H:%M")


def change_slot(group: Group, old_day: str, old_start: str, now: datetime) -> None:
    """The group's weekly slot changed: sessions not yet begun move to the new day and time, in the
    same week (forward to the new weekday), and members are told once each; sessions already held or
    begun stay where they were. A session that would then start in the past refuses the change."""
    rows = [r for r in _group_sessions(group.id) if r.status == "scheduled" and r.starts_at > now]
    if not rows:
        return
    ahead = (DAYS.index(group.day) - DAYS.index(old_day)) % 7
    new_start, minutes = _time(group.start_time), group.session_minutes
    moved = []
    for row in rows:
        planned = calendar.dated_session(
            row.number, row.phase, row.local_date + timedelta(days=ahead), new_start, group.timezone, minutes
        )
        if planned.starts_at <= now:
            raise Conflict(
                "the new slot has passed this week",
                {
                    "start_time": [
                        f"session {row.number} would start at {planned.starts_at.isoformat()}, in the past"
                    ]
                },
            )
        moved.append((row, planned))
    for row, planned in moved:
        _apply(row, planned)
    # One notice per member, about the next meeting ("...and the later ones follow at that time"): the
    # later sessions' new times are announced with it, as a shift's are.
    for row, _planned in moved[1:]:
        row.announced_starts_at, row.announced_at = row.starts_at, now
    _replan_meetings(group, now)
    db.session.flush()
    reconcile_group(group.id, now, "the group's weekly slot changed")


def _refusal(exc: CycleError) -> InvalidInput:
    held = any("held" in m or "started" in m for msgs in exc.errors.values() for m in msgs)
    error = Conflict if held else InvalidInput
    return error("the session cannot change that way", exc.errors)


def sessions_between(start: datetime, end: datetime, facilitator_id: int | None) -> list[GroupSession]:
    """Sessions starting in [start, end), soonest first, with their groups; a facilitator sees only
    their own groups' (None: every group)."""
    query = (
        select(GroupSession)
        .join(Group, Group.id == GroupSession.group_id)
        .where(GroupSession.starts_at >= start, GroupSession.starts_at < end)
        .order_by(GroupSession.starts_at, GroupSession.id)
        .options(contains_eager(GroupSession.group))
    )
    if facilitator_id is not None:
        query = query.where(Group.facilitator_id == facilitator_id)
    return list(db.session.scalars(query))


def cycle_sessions(group: Group) -> list[GroupSession]:
    """The group's sessions in order (cancelled ones included)."""
    return _group_sessions(group.id)
