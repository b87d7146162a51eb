"""What the coordinator sees of invitations: each group's seats, the invitations themselves, and
groups still below their minimum a set time before they start (flagged once, with the choices)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, exists, select

from ipt_groups.extensions import db
from ipt_groups.formation.invitations import enrolled_count, offered, open_group, remaining_starts
from ipt_groups.messaging.texts import first_name
from ipt_groups.models import Alert, Group, Invitation
from ipt_groups.settings.intake import intake_settings

SEAT_STATES = {
    "offered": "waiting",
    "accepted": "accepted",
    "declined": "declined",
    "expired": "no_reply",
    "cancelled": "cancelled",
    "too_late": "too_late",
}


def seats(group: Group, now: datetime) -> dict:
    """The group's seats: who accepted, who is still deciding, who declined or did not answer and to
    whom their seat was offered next, and how many seats are open."""
    invitations = list(
        db.session.scalars(select(Invitation).filter_by(group_id=group.id).order_by(Invitation.id))
    )
    next_offer = {i.replaces_id: i for i in invitations if i.replaces_id}
    rows = [_seat_row(i, next_offer.get(i.id)) for i in invitations]
    counts = {state: sum(r["state"] == state for r in rows) for state in SEAT_STATES.values()}
    enrolled = enrolled_count(group.id)
    found = open_group(group, now)
    return {
        "group_id": group.id,
        "max_size": group.max_size,
        "min_size": group.min_size,
        "enrolled": enrolled,
        "open": max(group.max_size - enrolled - counts["waiting"], 0),
        "taking_members": found is not None,
        "counts": counts,
        "seats": rows,
    }


def _seat_row(invitation: Invitation, then: Invitation | None) -> dict:
    member = invitation.member
    return {
        "invitation_id": invitation.id,
        "member_id": member.id,
        "name": first_name(member.name, member.preferred_name),
        "state": SEAT_STATES[invitation.status],
        "offered_at": invitation.offered_at,
        "deadline_at": invitation.deadline_at,
        "responded_at": invitation.responded_at,
        "reason": invitation.reason,
        "offered_next_to": then.member_id if then else None,
    }


def invitation_query(filters: dict) -> Select:
    """Invitations matching the filters, newest first."""
    query = select(Invitation).order_by(Invitation.id.desc())
    for key in ("group_id", "member_id", "status"):
        if key in filters:
            query = query.where(getattr(Invitation, key) == filters[key])
    return query


def flag_small_groups(now: datetime) -> int:
    """A group not yet started whose accepted members are below its minimum a set time before its first
    session is flagged to coordinators once, with the choices: merge, postpone, start smaller."""
    notice = timedelta(days=intake_settings()["small_group_notice_days"])
    flagged = 0
    # every tick: groups already flagged are left out by the query, not one lookup each
    flagged_before = exists().where(Alert.kind == "small_group", Alert.group_id == Group.id)
    waiting = select(Group).where(
        Group.status.in_(("forming", "scheduled")), Group.min_size.is_not(None), ~flagged_before
    )
    for group in db.session.scalars(waiting):
        starts = remaining_starts(group, now)
        if not starts or starts[0] - now > notice:
            continue
        accepted = enrolled_count(group.id)
        if accepted >= group.min_size:
            continue
        db.session.add(
            Alert(
                kind="small_group",
                group_id=group.id,
                dedupe_key=f"small_group:g{group.id}",
                created_at=now,
                detail={
                    "accepted": accepted,
                    "waiting": len(offered(group.id)),
                    "min_size": group.min_size,
                    "first_session": starts[0].isoformat(),
                    "choices": ["merge", "postpone", "start_smaller"],
                },
            )
        )
        flagged += 1
    db.session.flush()
    return flagged


ON_TICK = (flag_small_groups,)
