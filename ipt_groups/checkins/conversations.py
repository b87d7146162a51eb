"""Check-in conversations in the database: opened when the check-in is sent, answered by reply, closed
or expired when late; the pure conversation rules live in instruments.py, their planning in cycles/plan.py.
Item 9 of the PHQ-9 reaches a human: an answer above 0 or words that mean yes alert and put the crisis
line in the reply; an unreadable answer, or none before the check-in closes, ends in a review alert; a
late reply to the item-9 prompt still counts."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ipt_groups.checkins import instruments
from ipt_groups.checkins.alerts import add_to_alert, raise_safety_alert
from ipt_groups.checkins.safety import crisis_line
from ipt_groups.checkins.wording import Instrument, instrument_for
from ipt_groups.extensions import db
from ipt_groups.models import Alert, Checkin, Member, Message
from ipt_groups.settings.programme import catalogue_for

ITEM9_SOURCES = {
    instruments.SAFETY: "phq9_item9",
    instruments.ITEM9_UNKNOWN: "phq9_item9_unknown",
    instruments.ITEM9_UNANSWERED: "phq9_item9_unanswered",
}


def ttl() -> timedelta:
    """How long a check-in stays open (CHECKIN_TTL_HOURS, 48 by default)."""
    return timedelta(hours=current_app.config.get("CHECKIN_TTL_HOURS", 48))


def instrument_for_member(key: str, member: Member) -> Instrument:
    """The instrument worded in the member's language (their catalogue, with the programme's texts)."""
    return instrument_for(key, catalogue_for(member.language), current_app.config["PROGRAMME_NAME"])


def opens_with_invitation() -> bool:
    """Whether a check-in opens with a neutral invitation (CHECKIN_OPENING), not with item 1."""
    return current_app.config.get("CHECKIN_OPENING", "invitation") == "invitation"


def open_checkin(message: Message, now: datetime) -> str:
    """Open the conversation a check-in message starts; returns its first SMS, in the member's
    language. An older open check-in is closed first (kept, marked incomplete): one at a time."""
    close_open(message.member_id, now, "expired")
    inst = instrument_for_member(message.context["instrument"], db.session.get(Member, message.member_id))
    conv, first = instruments.start_conversation(inst, now, ttl(), opens_with_invitation())
    db.session.add(
        Checkin(
            member_id=message.member_id,
            group_id=message.group_id,
            session_id=message.session_id,
            occasion=message.context.get("occasion", "weekly"),
            instrument=conv.instrument,
            answers=[],
            started_at=now,
            expires_at=conv.expires_at,
            status="open",
            begun=conv.begun,
        )
    )
    db.session.flush()
    return first


def close_open(member_id: int, now: datetime, status: str) -> None:
    """Close the member's open check-in (STOP, a newer check-in) keeping its partial answers."""
    for checkin in db.session.scalars(select(Checkin).filter_by(member_id=member_id, status="open")):
        _close(checkin, status, now)
    db.session.flush()


def _close(checkin: Checkin, status: str, now: datetime) -> None:
    events = instruments.closing_events(_conversation(checkin))
    _score(checkin)
    checkin.status, checkin.completed_at = status, now
    if events:
        _alert_item9(checkin, db.session.get(Member, checkin.member_id), events, None, now)


def latest_for(member_id: int) -> Checkin | None:
    """The member's most recent check-in: the open one if any (opening one closes the others)."""
    query = (
        select(Checkin).filter_by(member_id=member_id).order_by(Checkin.started_at.desc(), Checkin.id.desc())
    )
    return db.session.scalar(query.limit(1))


def at_safety_item(checkin: Checkin) -> bool:
    """Whether the check-in waits for the answer to PHQ-9 item 9."""
    return instruments.at_safety_item(_conversation(checkin))


def answer_checkin(checkin: Checkin, member: Member, text: str, now: datetime) -> str | None:
    """Apply a reply to the open check-in; returns the next SMS, after the crisis line when item 9
    needs a human (the alert is raised here)."""
    inst = instrument_for_member(checkin.instrument, member)
    step = instruments.answer(_conversation(checkin), text, now, inst)
    checkin.answers, checkin.position, checkin.begun = (
        list(step.conv.answers),
        step.conv.position,
        step.conv.begun,
    )
    checkin.reprompted, checkin.status = step.conv.reprompted, step.conv.status
    if checkin.status != "open":
        checkin.completed_at = now
        _score(checkin)
    if not _alert_item9(checkin, member, step.events, text, now):
        return step.reply_text
    return " ".join(t for t in (crisis_line(member.language), step.reply_text) if t)


def answer_late(checkin: Checkin, member: Member, text: str, now: datetime) -> str | None:
    """A reply to the item-9 prompt of a closed check-in: the crisis line if it needs a human."""
    inst = instrument_for_member(checkin.instrument, member)
    events = instruments.late_answer(_conversation(checkin), text, inst)
    return crisis_line(member.language) if _alert_item9(checkin, member, events, text, now) else None


def _alert_item9(checkin: Checkin, member: Member, events, text: str | None, now: datetime) -> bool:
    """Alert a human for item-9 events, once per check-in while unacknowledged (a later reading
    joins the open alert); True when there was one."""
    found = [(name, payload) for name, payload in events if name in ITEM9_SOURCES]
    for name, payload in found:
        detail = {**payload, "checkin_id": checkin.id} | ({"answer": text[:160]} if text else {})
        alert = _open_item9_alert(checkin)
        if alert is None:
            raise_safety_alert(member, ITEM9_SOURCES[name], detail, now, checkin.session_id)
        else:
            add_to_alert(alert, {"source": ITEM9_SOURCES[name], **detail}, now)
    return bool(found)


def _open_item9_alert(checkin: Checkin) -> Alert | None:
    query = select(Alert).filter_by(member_id=checkin.member_id, kind="safety", acknowledged_at=None)
    return next(
        (
            a
            for a in db.session.scalars(query)
            if a.detail.get("checkin_id") == checkin.id and a.detail.get("source") in ITEM9_SOURCES.values()
        ),
        None,
    )


def _conversation(checkin: Checkin) -> instruments.Conversation:
    return instruments.Conversation(
        checkin.instrument,
        tuple(checkin.answers),
        checkin.position,
        checkin.reprompted,
        checkin.started_at,
        checkin.expires_at,
        checkin.status,
        checkin.begun,
    )


def _score(checkin: Checkin) -> None:
    result = instruments.score(checkin.instrument, checkin.answers)
    checkin.score, checkin.band, checkin.complete = result.total, result.band, result.complete


def expire_checkins(now: datetime) -> int:
    """Open check-ins past their time are closed, partial answers kept and marked incomplete."""
    expired = list(
        db.session.scalars(select(Checkin).where(Checkin.status == "open", Checkin.expires_at <= now))
    )
    for checkin in expired:
        _close(checkin, instruments.EXPIRED, now)
    db.session.flush()
    return len(expired)
