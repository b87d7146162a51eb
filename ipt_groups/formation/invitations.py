"""Invitations: a seat in a group offered to a waitlisted member, who accepts (YES, SÍ) or declines
(NO) by SMS before a deadline, with one reminder. Accepting enrols; declining, silence past the
deadline, or STOP return the member to the waitlist (their place kept) with the reason, and the seat
is offered at once to the best next member for that group (formation's rules: bucket, availability,
facilitator) until the group's start, or its late-join limit once its cycle is dated. The last seat
goes to one member: accepting locks the group's row and counts its members."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from ipt_groups.audit import record_change, snapshot
from ipt_groups.cycles import cohort
from ipt_groups.errors import Conflict, InvalidInput
from ipt_groups.extensions import db
from ipt_groups.formation.engine.fill import OpenGroup, candidates, free_for, suits
from ipt_groups.formation.waitlist import engine_members, screening_mode, waitlist_query
from ipt_groups.groups.operations import enrol_member, slot_starts
from ipt_groups.messaging.outbox import cancel_pending, plan_once
from ipt_groups.messaging.texts import first_name, local_when
from ipt_groups.models import (
    Cycle,
    Enrolment,
    Group,
    GroupProposal,
    GroupSession,
    Invitation,
    Member,
    Message,
)
from ipt_groups.people.roster import ACTIVE_GROUP_STATUSES
from ipt_groups.settings.intake import intake_settings
from ipt_groups.settings.programme import catalogue_for

ACTOR = "intake"  # who offers a seat again on its own
PLANNED_WEEKS = 12  # a group not yet dated is checked against this many weekly sessions
ANSWERS_FOR = timedelta(days=30)  # a YES or NO this long after an offer is no longer read as an answer


# --- offering ---------------------------------------------------------------------------------------


def invite(
    group: Group,
    member: Member,
    first_session_at: datetime,
    actor: str,
    now: datetime,
    proposal_id: int | None = None,
    replaces: Invitation | None = None,
) -> Invitation:
    """Offer the member a seat in the group until the deadline, with its text and one reminder."""
    if member.status != "waitlisted" or open_invitation(member.id) is not None:
        raise Conflict("the member cannot be invited", {"member_id": [f"member {member.id} is not free"]})
    settings = intake_settings()
    invitation = Invitation(
        group_id=group.id,
        member_id=member.id,
        status="offered",
        offered_at=now,
        deadline_at=now + timedelta(hours=settings["invitation_hours"]),
        first_session_at=first_session_at,
        proposal_id=proposal_id,
        replaces_id=replaces.id if replaces else None,
        created_by=actor,
    )
    db.session.add(invitation)
    db.session.flush()
    _plan_texts(invitation, group, member, settings, now)
    record_change(actor, "invitation.offer", invitation, None, snapshot(invitation))
    return invitation


def _plan_texts(invitation: Invitation, group: Group, member: Member, settings: dict, now: datetime) -> None:
    context = _when(invitation, group, member)
    row = {
        "member_id": member.id,
        "group_id": group.id,
        "deadline_at": invitation.deadline_at,
    }
    plan_once(
        {
            **row,
            "dedupe_key": f"m{member.id}:inv{invitation.id}:offer",
            "kind": "invitation",
            "due_at": now,
            "context": {"text": "invitation_offer", **context},
        }
    )
    reminder_at = invitation.deadline_at - timedelta(hours=settings["invitation_reminder_hours"])
    if settings["invitation_reminder_hours"] and reminder_at > now:
        plan_once(
            {
                **row,
                "dedupe_key": f"m{member.id}:inv{invitation.id}:reminder",
                "kind": "invitation_reminder",
                "due_at": reminder_at,
                "context": {"text": "invitation_reminder", **context},
            }
        )


def _when(invitation: Invitation, group: Group, member: Member) -> dict:
    """The first meeting and the deadline as the member reads them (the zone named if not the group's)."""
    catalogue = catalogue_for(member.language)
    return {
        "when": local_when(invitation.first_session_at, member.timezone, catalogue, group.timezone)["when"],
        "deadline": local_when(invitation.deadline_at, member.timezone, catalogue)["when"],
    }


def offer_seat(group: Group, now: datetime, replaces: Invitation | None = None) -> Invitation | None:
    """Offer an open seat of the group to the best next member, if the group still takes members and
    anyone suits it; a member is never offered the same group twice."""
    found = open_group(group, now)
    if found is None or found.seats <= 0:
        return None
    waiting = [
        m
        for m in db.session.scalars(waitlist_query(screening_mode(None)))
        if m.id not in found.excluded and m.opted_out_at is None  # an offer they could not be told of
    ]
    best = candidates(found, engine_members(waiting), match_on(group))
    if not best:
        return None
    member = db.session.get(Member, best[0].id)
    return invite(group, member, found.starts[0], ACTOR, now, replaces=replaces)


def open_group(group: Group, now: datetime) -> OpenGroup | None:
    """The group as formation sees an open one (its bucket, the sessions a joiner would attend, its
    open seats), or None once it takes no one: closed, or past its late-join limit."""
    if group.status not in ACTIVE_GROUP_STATUSES or cohort.late_join_refusal(group, now):
        return None
    starts = remaining_starts(group, now)
    if not starts:
        return None
    waiting = offered(group.id)
    people = [e.member for e in group.current_enrolments] + [i.member for i in waiting]
    facilitator = group.facilitator
    return OpenGroup(
        id=group.id,
        attrs={
            "problem_area": group.problem_area,
            "language": group.language,
            "age_band": _shared(people, "age_band"),
            "gender": _shared(people, "gender"),
        },
        starts=tuple(starts),
        session_minutes=group.session_minutes,
        seats=group.max_size - enrolled_count(group.id) - len(waiting),
        facilitator_languages=frozenset(facilitator.languages),
        facilitator_areas=frozenset(facilitator.problem_areas or ()),
        excluded=frozenset(db.session.scalars(select(Invitation.member_id).filter_by(group_id=group.id))),
    )


def _shared(people: list[Member], attr: str) -> str | None:
    values = {getattr(p, attr) for p in people}
    return values.pop() if len(values) == 1 else None


def match_on(group: Group) -> tuple[str, ...]:
    """The attributes the group's proposal matched on (formation's default for a group made by hand)."""
    proposal_id = db.session.scalar(
        select(Invitation.proposal_id).where(
            Invitation.group_id == group.id, Invitation.proposal_id.is_not(None)
        )
    )
    proposal = db.session.get(GroupProposal, proposal_id) if proposal_id else None
    policy = (proposal.document.get("policy") or {}) if proposal else {}
    return tuple(policy.get("match_on") or ("problem_area", "language", "age_band"))


def remaining_starts(group: Group, now: datetime) -> list[datetime]:
    """The UTC starts of the sessions a member joining now would attend: the cycle's, once dated
    (the late-join limit then closes the group); before that, weekly from the planned first session,
    none once that has begun (an undated group takes members until its start); a group made by hand
    with no planned start, weekly from its next slot."""
    if db.session.scalar(select(Cycle.id).filter_by(group_id=group.id)) is not None:
        sessions = select(GroupSession.starts_at).where(
            GroupSession.group_id == group.id,
            GroupSession.status == "scheduled",
            GroupSession.starts_at > now,
        )
        return list(db.session.scalars(sessions.order_by(GroupSession.starts_at)))
    if group.first_session_date is None:
        return [s for s in slot_starts(group, now, PLANNED_WEEKS) if s > now]
    planned = slot_starts(group, _midnight(group.first_session_date, group.timezone), PLANNED_WEEKS)
    return planned if planned[0] > now else []


def _midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def enrolled_count(group_id: int) -> int:
    """Members in the group now (one query: the count the last seat is decided by)."""
    query = (
        select(func.count())
        .select_from(Enrolment)
        .where(Enrolment.group_id == group_id, Enrolment.left_on.is_(None))
    )
    return db.session.scalar(query)


def offered(group_id: int) -> list[Invitation]:
    """The group's offers still waiting for an answer."""
    query = select(Invitation).filter_by(group_id=group_id, status="offered").order_by(Invitation.id)
    return list(db.session.scalars(query))


def open_invitation(member_id: int) -> Invitation | None:
    """The member's offer still waiting for an answer (at most one: a unique index)."""
    return db.session.scalar(select(Invitation).filter_by(member_id=member_id, status="offered"))


# --- answers ----------------------------------------------------------------------------------------


def answer_invitation(member: Member, kind: str, now: datetime) -> str | None:
    """A member's YES or NO to their latest offer (of the last 30 days); the reply text, or None when
    they hold no offer to answer. A YES after the deadline still takes the seat if it is free."""
    invitation = db.session.scalar(
        select(Invitation)
        .where(Invitation.member_id == member.id, Invitation.offered_at >= now - ANSWERS_FOR)
        .order_by(Invitation.offered_at.desc(), Invitation.id.desc())
        .limit(1)
    )
    if invitation is None:
        return None
    accept = kind == "offer_accept"
    if invitation.status == "offered" or (accept and invitation.status == "expired"):
        return accept_invitation(invitation, now) if accept else decline_invitation(invitation, now)
    if invitation.status == "accepted" and accept:
        return _reply(member, "invitation_accepted", _when(invitation, invitation.group, member))
    if invitation.status == "too_late":
        return _reply(member, "invitation_taken")
    return _reply(member, "invitation_closed")


def _reply(member: Member, key: str, context: dict | None = None) -> str:
    programme = current_app.config["PROGRAMME_NAME"]
    names = {"first_name": first_name(member.name, member.preferred_name), "programme": programme}
    return catalogue_for(member.language).render(key, {**names, **(context or {})})


def accept_invitation(invitation: Invitation, now: datetime) -> str:
    """Enrol the member if the group still has a seat for them; otherwise tell them kindly. The
    group's row is locked first (PostgreSQL), so two answers for the last seat are decided one at a
    time and exactly one wins."""
    group = _locked(invitation.group_id)
    member = invitation.member
    if open_group(group, now) is None or enrolled_count(group.id) >= group.max_size:
        _close(invitation, "too_late", "the seat was taken first", now)
        return _reply(member, "invitation_taken")
    try:
        enrol_member(group, member, {}, f"member:{member.id}", now)
    except Conflict:
        _close(invitation, "too_late", "the member could not join", now)
        return _reply(member, "invitation_taken")
    _close(invitation, "accepted", "accepted by SMS", now)
    _withdraw_surplus(group, now)
    return _reply(member, "invitation_accepted", _when(invitation, group, member))


def _locked(group_id: int) -> Group:
    """The group, its row locked until the transaction ends (PostgreSQL; SQLite has one writer)."""
    db.session.execute(select(Group.id).where(Group.id == group_id).with_for_update())
    return db.session.get(Group, group_id, populate_existing=True)


def _withdraw_surplus(group: Group, now: datetime) -> None:
    """Offers beyond the seats left (a late YES took one) close, and their members are told."""
    left = group.max_size - enrolled_count(group.id)
    for invitation in offered(group.id)[max(left, 0) :]:
        _close(invitation, "too_late", "the seat was taken first", now)
        plan_once(
            {
                "dedupe_key": f"m{invitation.member_id}:inv{invitation.id}:taken",
                "kind": "invitation_taken",
                "member_id": invitation.member_id,
                "group_id": group.id,
                "due_at": now,
                "deadline_at": invitation.deadline_at,
                "context": {"text": "invitation_taken"},
            }
        )


def decline_invitation(invitation: Invitation, now: datetime) -> str:
    """The member stays on the waitlist; the seat is offered to the next member at once."""
    _close(invitation, "declined", "declined by SMS", now)
    offer_seat(invitation.group, now, replaces=invitation)
    return _reply(invitation.member, "invitation_declined")


def _close(invitation: Invitation, status: str, reason: str, now: datetime) -> None:
    before = {"status": invitation.status}
    invitation.status, invitation.reason, invitation.responded_at = status, reason, now
    cancel_pending(
        Message.dedupe_key.like(f"m{invitation.member_id}:inv{invitation.id}:%"),
        Message.kind.in_(("invitation", "invitation_reminder")),
        reason=f"invitation {status}",
    )
    db.session.flush()
    record_change(
        f"member:{invitation.member_id}" if status in ("accepted", "declined") else ACTOR,
        f"invitation.{status}",
        invitation,
        before,
        {"status": status, "reason": reason},
    )


def cancel_invitations(member: Member, now: datetime, reason: str) -> int:
    """STOP (or a coordinator taking the member off the waitlist): their offer closes and its seat is
    offered to the next member."""
    invitation = open_invitation(member.id)
    if invitation is None:
        return 0
    _close(invitation, "cancelled", reason, now)
    offer_seat(invitation.group, now, replaces=invitation)
    return 1


# --- what the scheduler does ------------------------------------------------------------------------


def settle_invitations(now: datetime) -> int:
    """Offers past their deadline expire (the member stays on the waitlist) and offers to members who
    opted out or left the waitlist close; each frees its seat for the next member."""
    settled = 0
    waiting = select(Invitation).filter_by(status="offered").order_by(Invitation.id)
    for invitation in list(db.session.scalars(waiting)):  # offering seats adds offers: read them first
        member = invitation.member
        if member.opted_out_at is not None or member.status != "waitlisted":
            _close(invitation, "cancelled", "the member opted out or left the waitlist", now)
        elif invitation.deadline_at <= now:
            _close(invitation, "expired", "no reply by the deadline", now)
        else:
            continue
        offer_seat(invitation.group, now, replaces=invitation)
        settled += 1
    db.session.flush()
    return settled


def invite_by_hand(group: Group, member: Member, actor: str, now: datetime) -> Invitation:
    """A coordinator offers an open seat to a member of their choosing, under formation's rules."""
    found = open_group(group, now)
    if found is None or found.seats <= 0:
        raise Conflict("no open seat", {"group_id": [f"group {group.id} takes no one now"]})
    if member.needs_human:
        raise Conflict(
            "a human must call first", {"member_id": ["item 9 of their screen: override it first"]}
        )
    [mine] = engine_members([member])
    if not suits(found, mine, match_on(group)):
        raise InvalidInput(
            "the member does not suit the group", {"member_id": ["another bucket or facilitator"]}
        )
    if not free_for(found, mine):
        raise InvalidInput("the member is not free", {"member_id": ["not free for every session"]})
    return invite(group, member, found.starts[0], actor, now)


def answer_by_hand(invitation: Invitation, accept: bool, actor: str, now: datetime) -> Invitation:
    """A member's answer a coordinator took by phone: the same as their YES or NO by SMS (audited as
    the coordinator's)."""
    if not (invitation.status == "offered" or (accept and invitation.status == "expired")):
        raise Conflict("the invitation is closed", {"accept": [f"the invitation is {invitation.status}"]})
    before = {"status": invitation.status}
    if accept:
        accept_invitation(invitation, now)
    else:
        decline_invitation(invitation, now)
    record_change(actor, "invitation.answer_by_phone", invitation, before, {"status": invitation.status})
    return invitation


ON_TICK = (settle_invitations,)
