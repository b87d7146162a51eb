"""The waitlist and the facilitator roster: create, change and remove members and facilitators."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select

from ipt_groups.audit import audited_update, record_change, snapshot
from ipt_groups.auth import delete_tokens
from ipt_groups.cycles.cohort import leave_cycle
from ipt_groups.cycles.reconcile import reconcile_group, reconcile_member
from ipt_groups.errors import Conflict, InvalidInput
from ipt_groups.extensions import db
from ipt_groups.messaging.languages import without_catalogue
from ipt_groups.models import ApiToken, Enrolment, Facilitator, Group, Invitation, Member, Screening
from ipt_groups.signin import forget_person

# What a member's plan depends on: a change re-plans their group in the same transaction.
PLAN_FIELDS = frozenset({"phone", "timezone", "language", "sms_consent"})
ACTIVE_GROUP_STATUSES = ("forming", "scheduled", "running")


def ensure_unique(model, field: str, value, own_id: int | None = None) -> None:
    """409 naming the field, and the row that already holds this value."""
    other = db.session.scalar(select(model).where(getattr(model, field) == value))
    if other is not None and other.id != own_id:
        kind = model.__tablename__[:-1]
        found = f"a {kind} with this {field} already exists: {other.name} ({kind} {other.id})"
        raise Conflict(f"{field} already in use", {field: [found]})


def create_member(data: dict, actor: str, now: datetime) -> Member:
    """Put a new member on the waitlist."""
    ensure_unique(Member, "phone", data["phone"])
    member = Member(**data)
    member.waitlisted_at = data.get("waitlisted_at") or now
    member.sms_consent_at = now if member.sms_consent else None
    member.created_at = member.updated_at = now
    db.session.add(member)
    db.session.flush()
    record_change(actor, "member.create", member, None, snapshot(member))
    return member


def list_members(filters: dict) -> Select:
    """Members matching the filters, longest-waiting first."""
    query = select(Member).order_by(Member.waitlisted_at, Member.id)
    for key in ("status", "problem_area", "language"):
        if key in filters:
            query = query.where(getattr(Member, key) == filters[key])
    return _by_catalogue(query, Member.language, filters.get("no_catalogue"))


def list_facilitators(filters: dict) -> Select:
    """Facilitators matching the filters, in id order."""
    query = select(Facilitator).order_by(Facilitator.id)
    return _by_catalogue(query, Facilitator.language, filters.get("no_catalogue"))


def _by_catalogue(query: Select, column, no_catalogue: bool | None) -> Select:
    """Only those whose language has no catalogue (they get English), or only those whose has one."""
    if no_catalogue is None:
        return query
    missing = without_catalogue(db.session.scalars(select(column).distinct()))
    return query.where(column.in_(missing) if no_catalogue else column.not_in(missing))


def update_member(member: Member, changes: dict, actor: str, now: datetime) -> Member:
    """Change a member; consent changes are stamped, and leaving the programme ends the enrolment."""
    if "phone" in changes:
        ensure_unique(Member, "phone", changes["phone"], member.id)
    if "sms_consent" in changes and changes["sms_consent"] != member.sms_consent:
        changes["sms_consent_at"] = now
    _apply_status(member, changes.get("status"), now)
    member = audited_update(actor, "member.update", member, changes)
    if PLAN_FIELDS & set(changes):
        db.session.flush()
        reconcile_member(
            member.id, now, "the member's " + ", ".join(sorted(PLAN_FIELDS & set(changes))) + " changed"
        )
    return member


def _apply_status(member: Member, status: str | None, now: datetime) -> None:
    enrolment = member.current_enrolment if status and status != member.status else None
    if enrolment is None:
        return
    if status == "waitlisted":
        raise Conflict(
            "member is in a group", {"status": [f"remove them from group {enrolment.group_id} first"]}
        )
    enrolment.left_on, enrolment.left_reason = now.date(), status
    leave_cycle(enrolment.group_id, member.id, f"the member is {status}", now)


def delete_member(member: Member, actor: str) -> None:
    """Remove a member who has never been in a group, invited to one or screened; others are kept and
    marked withdrawn."""
    if db.session.scalar(select(func.count()).where(Enrolment.member_id == member.id)):
        raise Conflict(
            "member has group history",
            {"id": ["this member has been in a group; set status to withdrawn instead"]},
        )
    for model, what in ((Invitation, "invited to a group"), (Screening, "screened")):
        if db.session.scalar(select(func.count()).where(model.member_id == member.id)):
            raise Conflict(
                "member has intake history",
                {"id": [f"this member was {what}; set status to withdrawn instead"]},
            )
    record_change(actor, "member.delete", member, snapshot(member), None)
    db.session.delete(member)
    db.session.flush()


def create_facilitator(data: dict, actor: str, now: datetime) -> Facilitator:
    """Add a facilitator to the roster."""
    ensure_unique(Facilitator, "phone", data["phone"])
    ensure_unique(Facilitator, "email", data["email"])
    data = {"language": data["languages"][0], **data}  # their texts: the first language they lead in
    facilitator = Facilitator(**data, created_at=now, updated_at=now)
    db.session.add(facilitator)
    db.session.flush()
    record_change(actor, "facilitator.create", facilitator, None, snapshot(facilitator))
    return facilitator


def update_facilitator(facilitator: Facilitator, changes: dict, actor: str, now: datetime) -> Facilitator:
    """Change a facilitator."""
    for field in ("phone", "email"):
        if field in changes:
            ensure_unique(Facilitator, field, changes[field], facilitator.id)
    _check_still_leads(facilitator, changes)
    facilitator = audited_update(actor, "facilitator.update", facilitator, changes)
    if {"timezone", "phone", "language"} & set(changes):
        db.session.flush()
        for group in active_groups_led(facilitator.id):
            reconcile_group(group.id, now, "the facilitator's details changed")
    return facilitator


def active_groups_led(facilitator_id: int) -> list[Group]:
    """The facilitator's groups that are forming, scheduled or running."""
    query = select(Group).where(
        Group.facilitator_id == facilitator_id, Group.status.in_(ACTIVE_GROUP_STATUSES)
    )
    return list(db.session.scalars(query.order_by(Group.id)))


def _check_still_leads(facilitator: Facilitator, changes: dict) -> None:
    """The changed facilitator must still speak, lead and have room for their active groups."""
    led = active_groups_led(facilitator.id)
    languages = changes.get("languages", facilitator.languages)
    areas = changes.get("problem_areas", facilitator.problem_areas)
    errors = {}
    if lost := [g for g in led if g.language not in languages]:
        errors["languages"] = [f"group {g.id} meets in {g.language!r}" for g in lost]
    if areas and (lost := [g for g in led if g.problem_area not in areas]):
        errors["problem_areas"] = [f"group {g.id} is a {g.problem_area or 'mixed'} group" for g in lost]
    if changes.get("max_groups", facilitator.max_groups) < len(led):
        errors["max_groups"] = [f"they already lead {len(led)} groups"]
    if errors:
        raise InvalidInput("the change does not fit the groups they lead", errors)


def delete_facilitator(facilitator: Facilitator, actor: str) -> None:
    """Remove a facilitator who leads no group."""
    if db.session.scalar(select(func.count()).where(Group.facilitator_id == facilitator.id)):
        raise Conflict("facilitator leads groups", {"id": ["reassign their groups before removing them"]})
    delete_tokens(ApiToken.facilitator_id == facilitator.id, actor)
    forget_person("facilitator", facilitator.id)
    record_change(actor, "facilitator.delete", facilitator, snapshot(facilitator), None)
    db.session.delete(facilitator)
    db.session.flush()
