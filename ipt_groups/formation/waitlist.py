"""Who on the waitlist formation may place: waitlisted, not holding an offer, not waiting for a human
after a screen (PHQ-9 item 9 above 0), and screened as the programme or the coordinator asks.

`screening` is "eligible" (only members screened eligible), "eligible_or_unscreened" (also members
never screened here: a programme that screened before this software, by phone or on paper, keeps
forming groups as it did) or "any" (a coordinator's choice: whatever the screen said). Members whose
screen is pending or found them not eligible are left out unless "any"."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, exists, or_, select

from ipt_groups.formation import engine
from ipt_groups.models import Invitation, Member
from ipt_groups.settings.intake import intake_settings

SCREENING_MODES = ("eligible", "eligible_or_unscreened", "any")


def screening_mode(asked: str | None) -> str:
    """The mode asked for, else the programme's: only eligible members once screening is required."""
    if asked:
        return asked
    return "eligible" if intake_settings()["screening_required"] else "eligible_or_unscreened"


def formable(query: Select, mode: str) -> Select:
    """`query` over members narrowed to those formation may place under `mode`."""
    offered = exists().where(Invitation.member_id == Member.id, Invitation.status == "offered")
    query = query.where(Member.status == "waitlisted", Member.needs_human.is_(False), ~offered)
    if mode == "eligible":
        return query.where(Member.eligibility == "eligible")
    if mode == "eligible_or_unscreened":
        return query.where(or_(Member.eligibility.is_(None), Member.eligibility == "eligible"))
    return query


def waitlist_query(mode: str) -> Select:
    """Every member formation may place under `mode`, by id."""
    return formable(select(Member), mode).order_by(Member.id)


def member_doc(m: Member) -> dict:
    """A member as the engine reads them."""
    return {
        "id": m.id,
        "problem_area": m.problem_area,
        "language": m.language,
        "age_band": m.age_band,
        "gender": m.gender,
        "timezone": m.timezone,
        "waitlisted_at": m.waitlisted_at.isoformat(),
        "availability": m.availability,
    }


def engine_members(members: list[Member]) -> list[engine.Member]:
    """Members as the engine's plain data (the stored rows were validated when written)."""
    if not members:
        return []
    doc = {
        "policy": {"first_session_date": date(2000, 1, 3).isoformat()},
        "members": list(map(member_doc, members)),
    }
    return list(engine.parse_input(doc).members)
