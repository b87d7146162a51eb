"""The access log: every read of a member's personal or health data (a phone on an alert, scores,
check-ins, alerts, attendance sheets), who read it, when and through which route; coordinators query it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select

from ipt_groups.extensions import db
from ipt_groups.models import AccessEntry, Member
from ipt_groups.models.access import READ_SUBJECTS


def record_read(
    actor: str, what: str, via: str, now: datetime, member: Member | None = None, detail: dict | None = None
) -> AccessEntry:
    """Record that `actor` read `what` (of `member`, if any) through `via`; the caller commits."""
    if what not in READ_SUBJECTS:
        raise ValueError(f"unknown read subject {what!r}; add it to READ_SUBJECTS")
    member_id = member.id if member is not None else None
    entry = AccessEntry(at=now, actor=actor, what=what, member_id=member_id, via=via, detail=detail or {})
    db.session.add(entry)
    return entry


def record_member_reads(actor: str, what: str, via: str, now: datetime, reads: dict[int, dict]) -> int:
    """Record one read of `what` per member in `reads` (member id -> detail) made by one request: a
    page of check-ins or alerts, an attendance sheet. The caller commits."""
    if what not in READ_SUBJECTS:
        raise ValueError(f"unknown read subject {what!r}; add it to READ_SUBJECTS")
    entries = [
        AccessEntry(at=now, actor=actor, what=what, member_id=member_id, via=via, detail=detail)
        for member_id, detail in sorted(reads.items())
    ]
    db.session.add_all(entries)
    return len(entries)


def access_query(filters: dict) -> Select:
    """Reads matching the filters (member_id, actor, what, since, until), newest first."""
    query = select(AccessEntry).order_by(AccessEntry.at.desc(), AccessEntry.id.desc())
    for key in ("member_id", "actor", "what"):
        if key in filters:
            query = query.where(getattr(AccessEntry, key) == filters[key])
    if "since" in filters:
        query = query.where(AccessEntry.at >= filters["since"])
    if "until" in filters:
        query = query.where(AccessEntry.at < filters["until"])
    return query
