"""Attendance in the database: recorded by the facilitator or a coordinator, audited, turned into
sheets, reports and outreach alerts by the pure rules in rules.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import and_, distinct, func, or_, select

from ipt_groups.attendance import reports, rules
from ipt_groups.audit import record_change, snapshot
from ipt_groups.checkins.alerts import raise_once
from ipt_groups.errors import Conflict, InvalidInput
from ipt_groups.extensions import db
from ipt_groups.messaging.outbox import plan_once
from ipt_groups.messaging.texts import short_name
from ipt_groups.models import (
    Alert,
    AttendanceRecord,
    Checkin,
    Enrolment,
    Group,
    GroupSession,
    IndividualMeeting,
    Member,
    Rsvp,
)


def completion_rule() -> rules.CompletionRule:
    """The programme's completion rule (the COMPLETION_* settings)."""
    config = current_app.config
    return rules.CompletionRule(
        config["COMPLETION_MIN_RATE"],
        config["COMPLETION_REQUIRE_TERMINATION"],
        config["COMPLETION_LATE_COUNTS"],
        config["COMPLETION_EXCUSED_COUNTS_AS_MISSED"],
    )


def record_session(
    session: GroupSession, records: list[dict], actor: str, now: datetime
) -> list[AttendanceRecord]:
    """Record who came to a session that has started; it becomes held; outreach follows absences."""
    if session.status == "cancelled":
        raise Conflict("session cancelled", {"session_id": [f"session {session.number} was cancelled"]})
    if session.starts_at > now:
        raise Conflict("too early", {"session_id": [f"session {session.number} has not started yet"]})
    enrolled = enrolled_that_week(session)
    errors = {
        str(i): {"member_id": [f"member {r['member_id']} is not in this group that week"]}
        for i, r in enumerate(records)
        if r["member_id"] not in enrolled
    }
    if errors:
        raise InvalidInput("some members were not in the group", {"records": errors})
    saved = [
        _save(AttendanceRecord.session_id == session.id, {"session_id": session.id}, r, actor, now)
        for r in records
    ]
    session.status = "held"
    db.session.flush()
    _follow_up(session, {r["member_id"] for r in records}, now)
    _prompt_unmarked(session, enrolled, now)
    return saved


def _raise_outreach(group: Group, member, run: tuple[int, ...], now: datetime):
    return raise_once(
        "outreach",
        f"outreach:{member.id}:{run[0]}",
        now,
        member_id=member.id,
        group_id=group.id,
        detail={"absences_in_a_row": len(run), "session_ids": list(run)},
    )


def _merge_into_open_run(group_id: int, member_id: int, run: tuple[int, ...]) -> bool:
    """One outreach task per run of absences: a run that shares a session with a task already raised
    (a correction marked an earlier session absent, or the run grew) is merged into it."""
    tasks = db.session.scalars(
        select(Alert).filter_by(kind="outreach", member_id=member_id, group_id=group_id).order_by(Alert.id)
    )
    for task in tasks:
        known = list(task.detail.get("session_ids", []))
        if set(known) & set(run):
            merged = [*run, *(i for i in known if i not in run)]
            task.detail = {**task.detail, "absences_in_a_row": len(merged), "session_ids": merged}
            return True
    return False


def _prompt_unmarked(session: GroupSession, enrolled: set[int], now: datetime) -> None:
    """A held session where some members have no mark: one prompt to the facilitator naming them
    (not an absence, so no outreach), closed once every member is marked."""
    marked = set(db.session.scalars(select(AttendanceRecord.member_id).filter_by(session_id=session.id)))
    missing = sorted(enrolled - marked)
    key = f"unmarked:{session.id}"
    prompt = db.session.scalar(select(Alert).filter_by(dedupe_key=key))
    if prompt is None and missing:
        detail = {"session_number": session.number, "member_ids": missing}
        raise_once("unmarked", key, now, group_id=session.group_id, session_id=session.id, detail=detail)
    elif prompt is not None:
        prompt.detail = {**prompt.detail, "member_ids": missing}
        if not missing and prompt.acknowledged_at is None:
            prompt.acknowledged_at = now


def record_meeting(meeting: IndividualMeeting, records: list[dict], actor: str, now: datetime):
    """Record an individual meeting (only its own member); it becomes held."""
    if meeting.starts_at > now:
        raise Conflict("too early", {"meeting_id": [f"meeting {meeting.id} has not started yet"]})
    wrong = {
        str(i): {"member_id": [f"meeting {meeting.id} is with member {meeting.member_id}"]}
        for i, r in enumerate(records)
        if r["member_id"] != meeting.member_id
    }
    if wrong:
        raise InvalidInput("not this meeting's member", {"records": wrong})
    saved = [
        _save(AttendanceRecord.meeting_id == meeting.id, {"meeting_id": meeting.id}, r, actor, now)
        for r in records
    ]
    meeting.status = "held"
    db.session.flush()
    return saved


def enrolled_that_week(session: GroupSession) -> set[int]:
    query = select(Enrolment).where(
        Enrolment.group_id == session.group_id, Enrolment.joined_on <= session.local_date
    )
    return {
        e.member_id for e in db.session.scalars(query) if e.left_on is None or session.local_date < e.left_on
    }


@dataclass(frozen=True)
class RosterLine:
    """A member expected at a session: their reply to its reminder (C `confirm`, X `decline`, or
    None) and their attendance mark so far (None until recorded; `source` sms for an X's pre-fill)."""

    member: Member
    rsvp: str | None
    status: str | None
    source: str | None


def session_roster(session: GroupSession) -> list[RosterLine]:
    """Who is expected at a session (in the group that week), by name, with RSVPs and marks: three
    queries whatever the group's size."""
    ids = enrolled_that_week(session)
    members = db.session.scalars(select(Member).where(Member.id.in_(ids)).order_by(Member.name, Member.id))
    rsvps = dict(
        db.session.execute(select(Rsvp.member_id, Rsvp.response).filter_by(session_id=session.id)).all()
    )
    query = select(AttendanceRecord).filter_by(session_id=session.id)
    marks = {r.member_id: r for r in db.session.scalars(query)}
    return [
        RosterLine(
            m,
            rsvps.get(m.id),
            getattr(marks.get(m.id), "status", None),
            getattr(marks.get(m.id), "source", None),
        )
        for m in members
    ]


RSVP_WORDS = {"confirm": "confirmed", "decline": "cant_come", None: "no_answer"}


def rsvp_picture(session: GroupSession) -> dict:
    """The session's RSVPs as its facilitator and coordinators see them: each expected member as
    confirmed, can't come or no answer (the roster the pages show), with the counts."""
    lines = session_roster(session)
    answered = dict(
        db.session.execute(select(Rsvp.member_id, Rsvp.responded_at).filter_by(session_id=session.id)).all()
    )
    members = [
        {
            "member_id": line.member.id,
            "name": short_name(line.member.name, line.member.preferred_name),
            "rsvp": RSVP_WORDS.get(line.rsvp, "no_answer"),
            "responded_at": answered.get(line.member.id) if line.rsvp else None,
        }
        for line in lines
    ]
    counts = {word: sum(1 for m in members if m["rsvp"] == word) for word in RSVP_WORDS.values()}
    return {"session_id": session.id, "starts_at": session.starts_at, "counts": counts, "members": members}


def marked_counts(session_ids: list[int]) -> dict[int, int]:
    """How many members have a mark at each of these sessions (one query)."""
    query = (
        select(AttendanceRecord.session_id, func.count())
        .where(AttendanceRecord.session_id.in_(session_ids))
        .group_by(AttendanceRecord.session_id)
    )
    return dict(db.session.execute(query).all()) if session_ids else {}


def _save(where, subject: dict, record: dict, actor: str, now: datetime) -> AttendanceRecord:
    row = db.session.scalar(
        select(AttendanceRecord).where(where, AttendanceRecord.member_id == record["member_id"])
    )
    before = snapshot(row) if row else None
    if row is None:
        row = AttendanceRecord(member_id=record["member_id"], **subject)
        db.session.add(row)
    row.status, row.note, row.source = record["status"], record.get("note", row.note), "facilitator"
    row.recorded_by, row.recorded_at = actor, now
    db.session.flush()
    record_change(actor, "attendance.record", row, before, snapshot(row))
    return row


def _follow_up(session: GroupSession, member_ids: set[int], now: datetime) -> None:
    group = db.session.get(Group, session.group_id)
    sessions, members, marks = _group_facts(group.id)
    rule = completion_rule()
    for member in (m for m in members if m.id in member_ids and m.left_on is None):
        run = rules.outreach_needed(sessions, marks, member.id)
        if (
            run
            and not _merge_into_open_run(group.id, member.id, run)
            and _raise_outreach(group, member, run, now)
        ):
            _missed_you(group, member.id, run[0], now)
        if rules.completion_status(sessions, marks, member, rule) == "cannot_complete":
            raise_once(
                "cannot_complete",
                f"cannot_complete:{member.id}:{group.id}",
                now,
                member_id=member.id,
                group_id=group.id,
                detail={"rule": f"{rule.min_rate:.0%} of held sessions"},
            )


def _missed_you(group: Group, member_id: int, first_session_id: int, now: datetime) -> None:
    if current_app.config.get("MISSED_YOU_TEXT"):
        plan_once(
            {
                "dedupe_key": f"m{member_id}:outreach{first_session_id}:missed_you",
                "kind": "missed_you",
                "member_id": member_id,
                "group_id": group.id,
                "due_at": now,
                "deadline_at": None,
                "context": {"text": "missed_you"},
            }
        )


def _group_facts(group_id: int):
    sessions = [
        session_info(s) for s in db.session.scalars(select(GroupSession).filter_by(group_id=group_id))
    ]
    enrolments = db.session.scalars(select(Enrolment).filter_by(group_id=group_id))
    members = [rules.MemberInfo(e.member_id, e.member.name, e.joined_on, e.left_on) for e in enrolments]
    ids = [s.id for s in sessions]
    query = select(AttendanceRecord).where(AttendanceRecord.session_id.in_(ids)) if ids else None
    marks = (
        [rules.Mark(r.session_id, r.member_id, r.status) for r in db.session.scalars(query)] if ids else []
    )
    return sessions, members, marks


def session_info(s: GroupSession) -> rules.SessionInfo:
    return rules.SessionInfo(s.id, s.number, s.phase, s.starts_at, s.status, s.ends_at, s.local_date)


def build_sheet(group: Group, now: datetime) -> reports.Sheet:
    """The group's attendance sheet at `now`."""
    sessions, members, marks = _group_facts(group.id)
    info = reports.GroupInfo(group.id, group.name, group.timezone, group.facilitator.name)
    return reports.sheet(
        info, sessions, members, marks, _scores(group.id), _open_alerts(group.id), completion_rule(), now
    )


def _scores(group_id: int) -> list[reports.CheckinScore]:
    query = select(Checkin).where(Checkin.group_id == group_id, Checkin.complete.is_(True))
    return [
        reports.CheckinScore(c.member_id, c.completed_at or c.started_at, c.instrument, c.score)
        for c in db.session.scalars(query)
    ]


def _open_alerts(group_id: int) -> dict[int, int]:
    query = (
        select(Alert.member_id, func.count())
        .where(Alert.group_id == group_id, Alert.kind == "safety", Alert.acknowledged_at.is_(None))
        .group_by(Alert.member_id)
    )
    return dict(db.session.execute(query).all())


def report_rows(filters: dict) -> list[reports.ReportRow]:
    """Per group and phase: held sessions, attended marks, enrolled members; three GROUP BY queries,
    however many groups and members there are."""
    rule = completion_rule()
    held = _held(filters)
    attended = _attended(filters, rule)
    enrolled = _enrolled(filters)
    # the sheet's rule (rules._outcome): an excused session leaves a member's denominator when the
    # programme does not count it as missed
    excused = {} if rule.excused_counts_as_missed else _marked(filters, ("excused",))
    names = dict(db.session.execute(select(Group.id, Group.name).join(GroupSession).distinct()).all())
    rows = []
    for (g, phase), n in sorted(held.items()):
        members, pairs = enrolled.get((g, phase), (0, 0))
        expected = pairs - excused.get((g, phase), 0)
        rows.append(reports.ReportRow(g, names[g], phase, n, attended.get((g, phase), 0), members, expected))
    return rows


def _enrolled(filters: dict) -> dict:
    """Members enrolled at some held session of each group and phase (leavers and late joiners
    count only in the phases they were there for), and the (session, member) pairs of enrolment: the
    marks expected."""
    during = and_(
        Enrolment.group_id == GroupSession.group_id,
        Enrolment.joined_on <= GroupSession.local_date,
        or_(Enrolment.left_on.is_(None), GroupSession.local_date < Enrolment.left_on),
    )
    query = (
        select(
            GroupSession.group_id,
            GroupSession.phase,
            func.count(distinct(Enrolment.member_id)),
            func.count(),
        )
        .join(Enrolment, during)
        .where(GroupSession.status == "held")
        .group_by(GroupSession.group_id, GroupSession.phase)
    )
    return {(g, p): (n, pairs) for g, p, n, pairs in db.session.execute(_session_filters(query, filters))}


def _session_filters(query, filters: dict):
    if "group_id" in filters:
        query = query.where(GroupSession.group_id == filters["group_id"])
    if "from_date" in filters:
        query = query.where(GroupSession.local_date >= filters["from_date"])
    if "to_date" in filters:
        query = query.where(GroupSession.local_date <= filters["to_date"])
    return query


def _held(filters: dict) -> dict:
    query = (
        select(GroupSession.group_id, GroupSession.phase, func.count())
        .where(GroupSession.status == "held")
        .group_by(GroupSession.group_id, GroupSession.phase)
    )
    return {(g, p): n for g, p, n in db.session.execute(_session_filters(query, filters))}


def _attended(filters: dict, rule: rules.CompletionRule) -> dict:
    """Marks that count as attended under the completion rule (late unless the rule says otherwise)."""
    return _marked(filters, ("present", "late") if rule.count_late_as_present else ("present",))


def _marked(filters: dict, counted: tuple[str, ...]) -> dict:
    """Marks of these statuses at held sessions, per group and phase."""
    query = (
        select(GroupSession.group_id, GroupSession.phase, func.count())
        .join(AttendanceRecord, AttendanceRecord.session_id == GroupSession.id)
        .where(GroupSession.status == "held", AttendanceRecord.status.in_(counted))
        .group_by(GroupSession.group_id, GroupSession.phase)
    )
    return {(g, p): n for g, p, n in db.session.execute(_session_filters(query, filters))}
