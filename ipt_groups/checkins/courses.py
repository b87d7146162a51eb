"""Members' courses through their groups, for the outcomes report: the first and the last complete
PHQ-9 taken in the group, and the sessions attended of those held while the member was in it. Five
queries whatever the programme's size; the arithmetic is checkins/outcomes.py's."""

from __future__ import annotations

from sqlalchemy import select

from ipt_groups.checkins.outcomes import Course, outcome_report
from ipt_groups.extensions import db
from ipt_groups.models import AttendanceRecord, Checkin, Cycle, Enrolment, Group, GroupSession


def _groups(filters: dict) -> list[Group]:
    query = select(Group).outerjoin(Cycle, Cycle.group_id == Group.id).order_by(Group.id)
    if "group_id" in filters:
        query = query.where(Group.id == filters["group_id"])
    if "facilitator_id" in filters:
        query = query.where(Group.facilitator_id == filters["facilitator_id"])
    if "from_date" in filters:
        query = query.where(Cycle.first_date >= filters["from_date"])
    if "to_date" in filters:
        query = query.where(Cycle.first_date <= filters["to_date"])
    return list(db.session.scalars(query))


def _scores(group_ids: list[int]) -> dict[tuple[int, int], list[int]]:
    """Complete PHQ-9 totals per (group, member), oldest first."""
    query = (
        select(Checkin.group_id, Checkin.member_id, Checkin.score)
        .where(Checkin.group_id.in_(group_ids), Checkin.instrument == "phq9", Checkin.complete.is_(True))
        .where(Checkin.score.is_not(None))
        .order_by(Checkin.completed_at, Checkin.started_at, Checkin.id)
    )
    scores: dict[tuple[int, int], list[int]] = {}
    for group_id, member_id, score in db.session.execute(query):
        scores.setdefault((group_id, member_id), []).append(score)
    return scores


def _held(group_ids: list[int]) -> dict[int, list[GroupSession]]:
    query = select(GroupSession).where(GroupSession.group_id.in_(group_ids), GroupSession.status == "held")
    held: dict[int, list[GroupSession]] = {}
    for session in db.session.scalars(query):
        held.setdefault(session.group_id, []).append(session)
    return held


def _attended(group_ids: list[int]) -> set[tuple[int, int]]:
    """(session, member) of every present or late mark at a held session."""
    query = (
        select(AttendanceRecord.session_id, AttendanceRecord.member_id)
        .join(GroupSession, GroupSession.id == AttendanceRecord.session_id)
        .where(GroupSession.group_id.in_(group_ids), GroupSession.status == "held")
        .where(AttendanceRecord.status.in_(("present", "late")))
    )
    return {(session_id, member_id) for session_id, member_id in db.session.execute(query)}


def courses(groups: list[Group]) -> list[Course]:
    """One course per enrolment in these groups (a member who moved groups has one in each)."""
    ids = [g.id for g in groups]
    scores, held, attended = _scores(ids), _held(ids), _attended(ids)
    enrolments = db.session.scalars(
        select(Enrolment).where(Enrolment.group_id.in_(ids)).order_by(Enrolment.id)
    )
    found = []
    for e in enrolments:
        theirs = [
            s
            for s in held.get(e.group_id, [])
            if e.joined_on <= s.local_date and (e.left_on is None or s.local_date < e.left_on)
        ]
        taken = scores.get((e.group_id, e.member_id), [])
        found.append(
            Course(
                e.member_id,
                e.group_id,
                taken[0] if taken else None,
                taken[-1] if len(taken) > 1 else None,
                sum(1 for s in theirs if (s.id, e.member_id) in attended),
                len(theirs),
            )
        )
    return found


def programme_outcomes(filters: dict) -> dict:
    """The outcomes report over the groups the filters pick (group, facilitator, cycle start dates)."""
    groups = _groups(filters)
    cycles = dict(
        db.session.execute(
            select(Cycle.group_id, Cycle.first_date).where(Cycle.group_id.in_([g.id for g in groups]))
        ).all()
    )
    listed = [
        {
            "group_id": g.id,
            "name": g.name,
            "facilitator": g.facilitator.name,
            "first_date": _iso(cycles.get(g.id)),
        }
        for g in groups
    ]
    return outcome_report(courses(groups), listed)


def _iso(day) -> str | None:
    return day.isoformat() if day is not None else None
