"""Members' check-in scores: listings and the PHQ-9 trajectory with response since baseline."""

from __future__ import annotations

from sqlalchemy import Select, select

from ipt_groups.checkins import instruments
from ipt_groups.extensions import db
from ipt_groups.models import Checkin, Enrolment, Group


def list_checkins(filters: dict, facilitator_id: int | None) -> Select:
    """Check-ins, newest first; a facilitator sees only their groups'."""
    query = select(Checkin).order_by(Checkin.started_at.desc(), Checkin.id.desc())
    if facilitator_id is not None:
        query = query.join(Group, Group.id == Checkin.group_id).where(Group.facilitator_id == facilitator_id)
    for key, value in filters.items():
        query = query.where(getattr(Checkin, key) == value)
    return query


def member_in_facilitator_groups(member_id: int, facilitator_id: int) -> bool:
    """Whether the member has ever been in a group this facilitator leads."""
    query = (
        select(Enrolment.id)
        .join(Group, Group.id == Enrolment.group_id)
        .where(Enrolment.member_id == member_id, Group.facilitator_id == facilitator_id)
    )
    return db.session.scalar(query.limit(1)) is not None


def trajectory(member_id: int, facilitator_id: int | None = None) -> dict:
    """Every finished check-in in time order, the PHQ-9 baseline and latest, and the response; for a
    facilitator, none taken in another facilitator's group (a member may have moved groups)."""
    query = (
        select(Checkin)
        .where(Checkin.member_id == member_id, Checkin.status != "open", Checkin.status != "cancelled")
        .order_by(Checkin.started_at, Checkin.id)
    )
    if facilitator_id is not None:
        theirs = select(Group.id).where(Group.facilitator_id == facilitator_id)
        query = query.where(Checkin.group_id.is_(None) | Checkin.group_id.in_(theirs))
    checkins = list(db.session.scalars(query))
    points = [
        {
            "checkin_id": c.id,
            "taken_at": c.completed_at or c.started_at,
            "occasion": c.occasion,
            "instrument": c.instrument,
            "band": c.band,
            "complete": c.complete,
            **instruments.reported_score(c.instrument, c.answers),
        }
        for c in checkins
    ]
    phq9 = [c for c in checkins if c.instrument == "phq9" and c.complete]
    baseline, latest = (phq9[0].score, phq9[-1].score) if phq9 else (None, None)
    change = instruments.response(baseline, latest) if len(phq9) > 1 else None
    return {
        "member_id": member_id,
        "points": points,
        "phq9_baseline": baseline,
        "phq9_latest": latest,
        "response": change,
    }
