"""Groups made by hand: their slot and facilitator, and who is in them."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select

from ipt_groups.audit import audited_update, record_change, snapshot
from ipt_groups.availability import parse_hhmm
from ipt_groups.errors import Conflict, InvalidInput, NotFound
from ipt_groups.extensions import db
from ipt_groups.models import Enrolment, Facilitator, Group, Member
from ipt_groups.roster import current_enrolment, get_or_404
from ipt_groups.vocabulary import DAYS

ACTIVE_GROUP_STATUSES = ("forming", "scheduled", "running")


def list_groups(filters: dict, facilitator_id: int | None) -> Select:
    """Groups matching the filters; a facilitator sees only their own."""
    query = select(Group).order_by(Group.id)
    if facilitator_id is not None:
        query = query.where(Group.facilitator_id == facilitator_id)
    for key in ("status", "facilitator_id"):
        if key in filters:
            query = query.where(getattr(Group, key) == filters[key])
    return query


def create_group(data: dict, actor: str, now: datetime) -> Group:
    """Create a group led by a qualified, free facilitator."""
    facilitator = _facilitator(data["facilitator_id"])
    data = {"timezone": facilitator.timezone, **data}
    group = Group(**data, created_at=now, updated_at=now)
    _check_facilitator(group, facilitator, now)
    db.session.add(group)
    db.session.flush()
    record_change(actor, "group.create", group, None, snapshot(group))
    return group


def update_group(group_id: int, changes: dict, actor: str, now: datetime) -> Group:
    """Change a group's name, slot, size or facilitator; the result must still be valid."""
    group = get_or_404(Group, group_id)
    before = snapshot(group)
    for key, value in changes.items():
        setattr(group, key, value)
    _check_facilitator(group, _facilitator(group.facilitator_id), now)
    if len(_current(group)) > group.max_size:
        raise InvalidInput("group too large", {"max_size": ["below the number of members already in it"]})
    db.session.flush()
    record_change(actor, "group.update", group, before, snapshot(group))
    return group


def _facilitator(facilitator_id: int) -> Facilitator:
    facilitator = db.session.get(Facilitator, facilitator_id)
    if facilitator is None:
        raise InvalidInput("unknown facilitator", {"facilitator_id": [f"no facilitator {facilitator_id}"]})
    return facilitator


def _check_facilitator(group: Group, facilitator: Facilitator, now: datetime) -> None:
    errors = {}
    if group.language not in facilitator.languages:
        errors["language"] = [f"facilitator {facilitator.id} does not speak {group.language!r}"]
    if facilitator.problem_areas and group.problem_area not in facilitator.problem_areas:
        errors["problem_area"] = [f"facilitator {facilitator.id} does not lead {group.problem_area!r} groups"]
    others = _other_active_groups(facilitator.id, group.id)
    if len(others) >= facilitator.max_groups:
        errors["facilitator_id"] = [f"facilitator {facilitator.id} already leads {len(others)} groups (max)"]
    elif clash := next((o for o in others if _slots_overlap(o, group, now)), None):
        errors["facilitator_id"] = [f"facilitator {facilitator.id} leads group {clash.id} at that time"]
    if errors:
        raise InvalidInput("the facilitator cannot lead this group", errors)


def _other_active_groups(facilitator_id: int, group_id: int | None) -> list[Group]:
    query = select(Group).where(
        Group.facilitator_id == facilitator_id, Group.status.in_(ACTIVE_GROUP_STATUSES)
    )
    return [g for g in db.session.scalars(query) if g.id != group_id]


def next_slot_start(group: Group, now: datetime) -> datetime:
    """The group's next weekly start after `now`, as an aware instant."""
    tz = ZoneInfo(group.timezone)
    local_today = now.astimezone(tz).date()
    ahead = (DAYS.index(group.day) - local_today.weekday()) % 7
    minutes = parse_hhmm(group.start_time)
    day = local_today + timedelta(days=ahead)
    return datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=tz)


def _slots_overlap(a: Group, b: Group, now: datetime) -> bool:
    start_a, start_b = next_slot_start(a, now), next_slot_start(b, now)
    week = timedelta(days=7)
    # Compare modulo a week, so Sunday-night and Monday-morning slots in different zones still meet.
    delta = (start_b - start_a) % week
    return delta < timedelta(minutes=a.session_minutes) or week - delta < timedelta(minutes=b.session_minutes)


def _current(group: Group) -> list[Enrolment]:
    return [e for e in group.enrolments if e.left_on is None]


def enrol_member(group_id: int, member_id: int, options: dict, actor: str, now: datetime) -> Enrolment:
    """Add a waitlisted member to a group that has room and suits them."""
    group = get_or_404(Group, group_id)
    member = get_or_404(Member, member_id)
    _check_can_join(group, member)
    enrolment = Enrolment(
        group=group,
        member=member,
        joined_on=options.get("joined_on") or now.date(),
        late_join_override=options.get("override_late_join", False),
    )
    db.session.add(enrolment)
    member.status = "enrolled"
    db.session.flush()
    record_change(actor, "group.enrol", enrolment, None, snapshot(enrolment))
    return enrolment


def _check_can_join(group: Group, member: Member) -> None:
    if group.status not in ACTIVE_GROUP_STATUSES:
        raise Conflict("group is closed", {"group_id": [f"group {group.id} is {group.status}"]})
    if (current := current_enrolment(member.id)) is not None:
        raise Conflict(
            "already in a group", {"member_id": [f"member is already in group {current.group_id}"]}
        )
    if member.status != "waitlisted":
        raise Conflict("not on the waitlist", {"member_id": [f"member is {member.status}, not waitlisted"]})
    if len(_current(group)) >= group.max_size:
        raise Conflict("group is full", {"group_id": [f"group {group.id} has {group.max_size} members"]})
    _check_suits(group, member)


def _check_suits(group: Group, member: Member) -> None:
    errors = {}
    if member.language != group.language:
        errors["language"] = [f"member speaks {member.language!r}; the group meets in {group.language!r}"]
    if group.problem_area and member.problem_area != group.problem_area:
        errors["problem_area"] = [f"member's problem area is not the group's ({group.problem_area})"]
    bands = {e.member.age_band for e in _current(group)}
    if bands and member.age_band not in bands:
        errors["age_band"] = ["adolescents and adults are never in one group"]
    if errors:
        raise InvalidInput("member does not suit this group", errors)


def remove_member(group_id: int, member_id: int, actor: str, now: datetime) -> Enrolment:
    """Take a member out of a group; they go back to the waitlist with their place kept."""
    enrolment = db.session.scalar(
        select(Enrolment).where(
            Enrolment.group_id == group_id, Enrolment.member_id == member_id, Enrolment.left_on.is_(None)
        )
    )
    if enrolment is None:
        raise NotFound(f"member {member_id} is not in group {group_id}")
    audited_update(actor, "group.remove", enrolment, {"left_on": now.date(), "left_reason": "removed"})
    enrolment.member.status = "waitlisted"
    db.session.flush()
    return enrolment
