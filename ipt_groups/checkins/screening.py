"""Screening at intake: a PHQ-9 by SMS (with consent) through the check-in conversation machinery, in
the member's language, or one a coordinator took by phone; the programme's rule (a score of 10 or more
by default) marks the member eligible or not eligible, and a neutral text tells them. An answer above
0 to item 9 marks the member as needing a human and raises the safety alert (the conversation raises it
for an SMS screen, as for any check-in). A coordinator may override the outcome either way, with a
reason; every change is audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ipt_groups.audit import record_change, snapshot
from ipt_groups.checkins.alerts import raise_safety_alert
from ipt_groups.checkins.conversations import ttl
from ipt_groups.checkins.instruments import score
from ipt_groups.errors import Conflict, InvalidInput
from ipt_groups.extensions import db
from ipt_groups.messaging.catalogue import primary
from ipt_groups.messaging.outbox import plan_once
from ipt_groups.models import Alert, Checkin, Member, Message, Screening
from ipt_groups.settings.intake import intake_settings
from ipt_groups.settings.programme import catalogue_for

ACTOR = "intake"
OCCASION = "screening"
ITEM9 = 8  # the PHQ-9's ninth item, by index
UNSENT = ("cancelled", "expired", "failed", "suppressed")


def outcome_for(total: int, threshold: int) -> str:
    """The programme's eligibility rule: a PHQ-9 total at or above the threshold is eligible."""
    return "eligible" if total >= threshold else "not_eligible"


def start_sms_screen(member: Member, actor: str, now: datetime) -> Screening:
    """Text the member a PHQ-9 now, as a check-in in their language; the screen waits for it."""
    if not member.sms_consent or member.opted_out_at is not None:
        raise Conflict(
            "no consent to SMS", {"method": ["the member has not agreed to texts; screen by phone"]}
        )
    _refuse_unless_waitlisted(member)
    _close_pending(member, now)
    screening = _new(member, "sms", "pending", actor, now)
    member.eligibility = "pending"
    plan_once(
        {
            "dedupe_key": f"m{member.id}:screen{screening.id}:phq9",
            "kind": "checkin",
            "member_id": member.id,
            "due_at": now,
            "deadline_at": now + ttl(),
            "context": {"instrument": "phq9", "occasion": OCCASION},
        }
    )
    record_change(actor, "screening.start", screening, None, snapshot(screening))
    return screening


def record_phone_screen(member: Member, answers: list[int], actor: str, now: datetime) -> Screening:
    """A PHQ-9 a coordinator took by phone (nine answers, 0-3): scored, ruled on, and item 9 above 0
    raises the safety alert as it would by SMS."""
    _refuse_unless_waitlisted(member)
    _close_pending(member, now)
    result = score("phq9", answers)
    screening = _new(member, "phone", "pending", actor, now)
    _decide(screening, member, result.total, answers[ITEM9], answers[ITEM9] > 0, now)
    if answers[ITEM9] > 0:
        detail = {"screening_id": screening.id, "item9": answers[ITEM9], "method": "phone"}
        raise_safety_alert(member, "screening_item9", detail, now)
    record_change(actor, "screening.phone", screening, None, snapshot(screening))
    return screening


def override_screen(member: Member, eligible: bool, reason: str, actor: str, now: datetime) -> Screening:
    """A coordinator's decision either way, with its reason; eligible also clears "needs a human"
    (a person has decided, as DOMAIN.md asks of exclusion at intake)."""
    if not reason.strip():
        raise InvalidInput("a reason is needed", {"reason": ["say why the outcome is overridden"]})
    before = {"eligibility": member.eligibility, "needs_human": member.needs_human}
    _close_pending(member, now)
    outcome = "eligible" if eligible else "not_eligible"
    screening = _new(member, "override", outcome, actor, now, reason=reason.strip())
    screening.decided_at = now
    member.eligibility = outcome
    member.needs_human = member.needs_human and not eligible
    db.session.flush()
    record_change(actor, "screening.override", member, before, {"eligibility": outcome, "reason": reason})
    return screening


def _refuse_unless_waitlisted(member: Member) -> None:
    if member.status != "waitlisted":
        raise Conflict("not on the waitlist", {"member_id": [f"member is {member.status}"]})


def _new(member: Member, method: str, outcome: str, actor: str, now: datetime, reason=None) -> Screening:
    screening = Screening(
        member_id=member.id,
        method=method,
        outcome=outcome,
        threshold=intake_settings()["eligibility_threshold"],
        needs_human=False,
        reason=reason,
        recorded_by=actor,
        created_at=now,
    )
    db.session.add(screening)
    db.session.flush()
    return screening


def _close_pending(member: Member, now: datetime) -> None:
    """A new screen replaces one still waiting (its answers, if any come, no longer decide)."""
    for old in db.session.scalars(select(Screening).filter_by(member_id=member.id, outcome="pending")):
        old.outcome, old.decided_at, old.reason = "incomplete", now, "replaced by a later screen"


def _decide(screening: Screening, member: Member, total, item9, needs_human: bool, now: datetime) -> None:
    screening.score, screening.item9, screening.decided_at = total, item9, now
    screening.outcome = outcome_for(total, screening.threshold) if total is not None else "incomplete"
    screening.needs_human = needs_human
    member.eligibility = screening.outcome if screening.outcome != "incomplete" else None
    member.needs_human = member.needs_human or needs_human
    db.session.flush()


# --- what the scheduler does ------------------------------------------------------------------------


def settle_screens(now: datetime) -> int:
    """SMS screens whose check-in has closed (answered, expired, cancelled by STOP) or was never sent
    are decided; the member is told the outcome unless a human must call them first."""
    settled = 0
    pending = select(Screening).filter_by(method="sms", outcome="pending")
    for screening in list(db.session.scalars(pending)):
        member = db.session.get(Member, screening.member_id)
        checkin = _checkin_of(screening)
        if checkin is None and _sent_or_waiting(screening):
            continue
        if checkin is not None and checkin.status == "open":
            continue
        _conclude(screening, member, checkin, now)
        settled += 1
    db.session.flush()
    return settled


def _checkin_of(screening: Screening) -> Checkin | None:
    query = select(Checkin).where(
        Checkin.member_id == screening.member_id,
        Checkin.occasion == OCCASION,
        Checkin.started_at >= screening.created_at,
    )
    return db.session.scalar(query.order_by(Checkin.started_at, Checkin.id).limit(1))


def _sent_or_waiting(screening: Screening) -> bool:
    key = f"m{screening.member_id}:screen{screening.id}:phq9"
    state = db.session.scalar(select(Message.state).filter_by(dedupe_key=key))
    return state is not None and state not in UNSENT


def _conclude(screening: Screening, member: Member, checkin: Checkin | None, now: datetime) -> None:
    answers = list(checkin.answers) if checkin is not None else []
    item9 = answers[ITEM9] if len(answers) > ITEM9 else None
    needs_human = (item9 or 0) > 0 or (checkin is not None and _alerted(checkin))
    screening.checkin_id = checkin.id if checkin is not None else None
    total = checkin.score if checkin is not None and checkin.complete else None
    _decide(screening, member, total, item9, needs_human, now)
    record_change(ACTOR, "screening.decide", screening, None, snapshot(screening))
    if screening.outcome != "incomplete" and not needs_human:
        _tell(screening, member, now)


def _alerted(checkin: Checkin) -> bool:
    """Whether the check-in raised a safety alert (item 9: a yes in words, an unreadable answer)."""
    alerts = db.session.scalars(select(Alert).filter_by(member_id=checkin.member_id, kind="safety"))
    return any(a.detail.get("checkin_id") == checkin.id for a in alerts)


def _tell(screening: Screening, member: Member, now: datetime) -> None:
    row = {"member_id": member.id, "due_at": now}
    plan_once(
        {
            **row,
            "dedupe_key": f"m{member.id}:screen{screening.id}:result",
            "kind": "screening_result",
            "context": {"text": f"screening_{screening.outcome}"},
        }
    )
    line = referral_line(member.language)
    if screening.outcome == "not_eligible" and line:
        plan_once(
            {
                **row,
                "dedupe_key": f"m{member.id}:screen{screening.id}:referral",
                "kind": "screening_referral",
                "context": {"body": line},
            }
        )


def referral_line(language: str | None) -> str | None:
    """The programme's referral line in the language the member reads (none: no line)."""
    lines = intake_settings()["referral_line"] or {}
    tag = catalogue_for(language).language
    return lines.get(tag) or lines.get(primary(tag))


ON_TICK = (settle_screens,)
