"""Groups made by hand: their slot and facilitator, and who is in them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select

from ipt_groups.audit import audited_update, record_change, snapshot
from ipt_groups.cycles import cohort
from ipt_groups.cycles.operations import change_slot
from ipt_groups.cycles.reconcile import reconcile_group
from ipt_groups.errors import Conflict, InvalidInput, NotFound
from ipt_groups.extensions import db
from ipt_groups.models import Enrolment, Facilitator, Group, Member
from ipt_groups.people.roster import ACTIVE_GROUP_STATUSES, active_groups_led
from ipt_groups.time_of_day import parse_hhmm
from ipt_groups.vocabulary import DAYS

WEEKS_CHECKED = 53  # a year of sessions: every DST change in either group's zone


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


def update_group(group: Group, changes: dict, actor: str, now: datetime) -> Group:
    """Change a group's name, slot, size or facilitator; the result must still be valid."""
    facilitator = _facilitator(changes.get("facilitator_id", group.facilitator_id))
    before = snapshot(group)
    old_day, old_start = group.day, group.start_time
    for key, value in changes.items():
        setattr(group, key, value)
    _check_facilitator(group, facilitator, now)
    _check_members_fit(group)
    db.session.flush()
    if (group.day, group.start_time) != (old_day, old_start):
        # Applied to the sessions not yet begun, with one notice per member (held ones stay).
        change_slot(group, old_day, old_start, now)
    elif before["facilitator_id"] != group.facilitator_id:
        reconcile_group(group.id, now, "the group has a new facilitator")
    record_change(actor, "group.update", group, before, snapshot(group))
    return group


def _check_members_fit(group: Group) -> None:
    """The changed group must still hold, and suit, the members already in it."""
    current = group.current_enrolments
    if len(current) > group.max_size:
        raise InvalidInput(
            "group too large", {"max_size": [f"below the {len(current)} members already in it"]}
        )
    for enrolment in current:
        try:
            _check_suits(group, enrolment.member)
        except InvalidInput as exc:
            raise InvalidInput(
                f"member {enrolment.member_id} would no longer suit the group", exc.errors
            ) from exc


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
        kind = group.problem_area or "mixed"
        errors["problem_area"] = [f"facilitator {facilitator.id} does not lead {kind} groups"]
    if busy := _busy(group, facilitator, now):
        errors["facilitator_id"] = [busy]
    if errors:
        raise InvalidInput("the facilitator cannot lead this group", errors)


def _busy(group: Group, facilitator: Facilitator, now: datetime) -> str | None:
    """Why the facilitator has no room for the group (too many groups, or one at that time), or None."""
    others = _other_active_groups(facilitator.id, group.id)
    if len(others) >= facilitator.max_groups:
        return f"facilitator {facilitator.id} already leads {len(others)} groups (max)"
    for other in others:
        if (when := first_clash(other, group, now)) is not None:
            day = when.astimezone(ZoneInfo(group.timezone)).date()
            return f"facilitator {facilitator.id} leads group {other.id} at that time (from {day})"
    return None


def _other_active_groups(facilitator_id: int, group_id: int | None) -> list[Group]:
    return [g for g in active_groups_led(facilitator_id) if g.id != group_id]


def next_slot_start(group: Group, now: datetime) -> datetime:
    """The group's first weekly start on or after today in its zone (perhaps already past), aware."""
    tz = ZoneInfo(group.timezone)
    local_today = now.astimezone(tz).date()
    ahead = (DAYS.index(group.day) - local_today.weekday()) % 7
    minutes = parse_hhmm(group.start_time)
    day = local_today + timedelta(days=ahead)
    return datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=tz)


def slot_starts(group: Group, now: datetime, weeks: int = WEEKS_CHECKED) -> list[datetime]:
    """The group's weekly starts from `now` on, in UTC; the wall-clock time holds across DST."""
    first = next_slot_start(group, now)
    # Adding to an aware datetime keeps its wall-clock time; the zone then gives that week's offset.
    return [(first + timedelta(weeks=k)).astimezone(UTC) for k in range(weeks)]


def first_clash(a: Group, b: Group, now: datetime) -> datetime | None:
    """When b's session first overlaps a's in the coming year, or None."""
    week = timedelta(days=7)
    length_a, length_b = timedelta(minutes=a.session_minutes), timedelta(minutes=b.session_minutes)
    for start_a, start_b in zip(slot_starts(a, now), slot_starts(b, now), strict=True):
        # Modulo a week, so Sunday-night and Monday-morning slots in different zones still meet.
        delta = (start_b - start_a) % week
        if delta < length_a or week - delta < length_b:
            return start_b
    return None


def enrol_member(group: Group, member: Member, options: dict, actor: str, now: datetime) -> Enrolment:
    """Add a waitlisted member to a group that has room and suits them."""
    _check_can_join(group, member)
    _check_cohort_open(group, options, now)
    enrolment = Enrolment(
        group=group,
        member=member,
        joined_on=options.get("joined_on") or now.date(),
        late_join_override=options.get("override_late_join", False),
    )
    db.session.add(enrolment)
    member.status = "enrolled"
    db.session.flush()
    cohort.join_cycle(group, member, now)
    record_change(actor, "group.enrol", enrolment, None, snapshot(enrolment))
    return enrolment


def _check_cohort_open(group: Group, options: dict, now: datetime) -> None:
    """Closed cohorts: late joining only in the first sessions, unless a coordinator overrides it."""
    refusal = cohort.late_join_refusal(group, now)
    if refusal and not options.get("override_late_join"):
        raise Conflict("the group is closed to new members", {"override_late_join": [refusal]})


def _check_can_join(group: Group, member: Member) -> None:
    if group.status not in ACTIVE_GROUP_STATUSES:
        raise Conflict("group is closed", {"group_id": [f"group {group.id} is {group.status}"]})
    if (current := member.current_enrolment) is not None:
        raise Conflict(
            "already in a group", {"member_id": [f"member is already in group {current.group_id}"]}
        )
    if member.status != "waitlisted":
        raise Conflict("not on the waitlist", {"member_id": [f"member is {member.status}, not waitlisted"]})
    if len(group.current_enrolments) >= group.max_size:
        raise Conflict("group is full", {"group_id": [f"group {group.id} has {group.max_size} members"]})
    _check_suits(group, member)


def _check_suits(group: Group, member: Member) -> None:
    errors = {}
    if member.language != group.language:
        errors["language"] = [f"member speaks {member.language!r}; the group meets in {group.language!r}"]
    if group.problem_area and member.problem_area != group.problem_area:
        errors["problem_area"] = [f"member's problem area is not the group's ({group.problem_area})"]
    bands = {e.member.age_band for e in group.current_enrolments}
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
    cohort.leave_cycle(group_id, member_id, "the member left the group", now)
    db.session.flush()
    return enrolment
