"""The access log: every read of a member's personal or health data, who read it, when and how."""

from __future__ import annotations

from datetime import datetime

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
