"""Members' replies by SMS, and texts from anyone else. In order: the message is stored, read for
words of crisis (whoever sent it, in any language), then acted on. Keywords win over any open
conversation; RSVPs are routed to the next session even while a check-in is open; Twilio's retries of
the same message are answered from the first handling."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select

from ipt_groups.checkins import safety
from ipt_groups.checkins.conversations import (
    answer_checkin,
    answer_late,
    at_safety_item,
    close_open,
    latest_for,
)
from ipt_groups.checkins.replies import classify
from ipt_groups.extensions import db
from ipt_groups.messaging.outbox import plan_once
from ipt_groups.messaging.refusals import opt_out
from ipt_groups.messaging.texts import first_name, local_when
from ipt_groups.models import AttendanceRecord, Enrolment, GroupSession, InboundMessage, Member, Message, Rsvp

UNKNOWN_SENDER_TEXT = "Sorry, we don't recognise this number. Please contact your coordinator."
ACK_TEXT = "Thanks, your message was received. For anything urgent, please call your coordinator."
CONSENT_KINDS = ("stop", "start")  # applied whatever else holds, as carriers apply them


def receive_sms(
    provider_id: str,
    from_phone: str,
    body: str,
    now: datetime,
    limited: bool = False,
    safety_only: bool = False,
) -> str | None:
    """Handle one inbound SMS once; returns the reply text (None: no reply). A text with words of
    crisis is answered with the crisis line alone. `limited` (the sender is over its rate limit) keeps
    only safety (crisis words, item 9) and consent (STOP, START) and sends no other reply;
    `safety_only` (the full handling failed) stores the message and reads it for crisis only."""
    seen = db.session.scalar(select(InboundMessage).filter_by(provider_id=provider_id))
    if seen is not None:
        return seen.handled.get("reply")
    member = db.session.scalar(select(Member).filter_by(phone=from_phone))
    record = InboundMessage(
        provider_id=provider_id,
        from_phone=from_phone,
        body=body[:1600],
        member_id=member.id if member else None,
        received_at=now,
        kind="unknown_sender" if member is None else "other",
        handled=_flags(limited, safety_only),
    )
    urgent = _crisis(member, record, now)
    rest = None if safety_only else _act(member, record, now, limited, urgent is not None)
    # Added once it is handled: one INSERT instead of an INSERT and updates (the webhook's hot path).
    record.handled = {**record.handled, "reply": urgent or rest}
    db.session.add(record)
    return urgent or rest


def _flags(limited: bool, safety_only: bool) -> dict:
    flags = {"rate_limited": True} if limited else {}
    return flags | ({"error": "handling failed: stored and read for crisis only"} if safety_only else {})


def _act(member: Member | None, record: InboundMessage, now: datetime, limited: bool, crisis: bool):
    if member is None:
        return None if crisis or limited else _from_stranger(record)
    return _from_member(member, record, now, limited, crisis)


def _from_stranger(record: InboundMessage) -> str | None:
    earlier = select(InboundMessage.id).where(InboundMessage.from_phone == record.from_phone)
    return None if db.session.scalar(earlier.limit(1)) else UNKNOWN_SENDER_TEXT


def _from_member(member: Member, record: InboundMessage, now: datetime, limited: bool, crisis: bool):
    inbound = classify(record.body)
    record.kind = inbound.kind
    if inbound.kind in CONSENT_KINDS:
        reply = _KEYWORDS[inbound.kind](member, record, now)
        return None if limited else reply
    if crisis:
        return None  # words of crisis are not an answer: an open check-in waits, unchanged
    if inbound.kind in _KEYWORDS:
        return None if limited else _KEYWORDS[inbound.kind](member, record, now)
    return _other(member, record, now, limited or member.opted_out_at is not None)


def _crisis(member: Member | None, record: InboundMessage, now: datetime) -> str | None:
    language = member.language if member else None
    match = safety.detect(record.body, language)
    if match is None:
        return None
    db.session.add(record)
    db.session.flush()  # the alert names the inbound message
    alert = safety.raise_crisis_alert(record, member, match, now)
    record.handled = {**record.handled, "alert_id": alert.id}
    return safety.crisis_line(language or match.language)


def _stop(member: Member, record: InboundMessage, now: datetime) -> None:
    cancelled = opt_out(member, now, f"SMS {record.body.strip()[:20].upper()}")
    close_open(member.id, now, "cancelled")
    record.handled = {**record.handled, "cancelled_messages": cancelled}
    return None  # the carrier and Twilio confirm an opt-out themselves; a second text would be noise


def _start(member: Member, record: InboundMessage, now: datetime) -> str:
    member.opted_out_at, member.phone_problem = None, None
    member.sms_consent, member.sms_consent_at, member.sms_consent_source = True, now, "SMS START"
    return f"You will get messages from {current_app.config['PROGRAMME_NAME']} again. Reply STOP to stop."


def _help(member: Member, record: InboundMessage, now: datetime) -> str:
    return current_app.config["HELP_TEXT"]


def _other(member: Member, record: InboundMessage, now: datetime, quiet: bool) -> str | None:
    """A check-in answer, a late answer to item 9, or an acknowledgement. `quiet` (over the rate
    limit, or opted out): only the item-9 answer is read, and nothing else is answered."""
    checkin = latest_for(member.id)
    if checkin is not None and checkin.status == "open":
        if quiet and not at_safety_item(checkin):
            return None
        record.kind, record.handled = "checkin_answer", {**record.handled, "checkin_id": checkin.id}
        return answer_checkin(checkin, member, record.body, now)
    late = answer_late(checkin, member, record.body, now) if checkin is not None else None
    if late is not None:
        record.kind, record.handled = "checkin_answer", {**record.handled, "late_checkin_id": checkin.id}
        return late
    return None if quiet else ACK_TEXT


def _rsvp(member: Member, record: InboundMessage, now: datetime) -> str:
    session = next_session(member.id, now)
    if session is None:
        return "Thanks. We could not find an upcoming meeting for you; your coordinator will be in touch."
    response = "confirm" if record.kind == "rsvp_confirm" else "decline"
    rsvp = db.session.scalar(select(Rsvp).filter_by(session_id=session.id, member_id=member.id))
    if rsvp is None:
        rsvp = Rsvp(session_id=session.id, member_id=member.id)
        db.session.add(rsvp)
    rsvp.response, rsvp.responded_at = response, now
    _prefill_attendance(session, member, response, now)
    if response == "confirm":
        return "Thanks, see you then."
    _tell_facilitator(session, member, now)
    return "Thanks for letting us know. We've told your facilitator."


def next_session(member_id: int, now: datetime) -> GroupSession | None:
    """The next scheduled session of the member's current group (one query)."""
    query = (
        select(GroupSession)
        .join(Enrolment, Enrolment.group_id == GroupSession.group_id)
        .where(
            Enrolment.member_id == member_id,
            Enrolment.left_on.is_(None),
            GroupSession.status == "scheduled",
            GroupSession.starts_at > now,
        )
        .order_by(GroupSession.starts_at)
    )
    return db.session.scalar(query.limit(1))


def _prefill_attendance(session: GroupSession, member: Member, response: str, now: datetime) -> None:
    """X pre-fills an excused absence the facilitator can change; C takes back such a pre-fill."""
    record = db.session.scalar(select(AttendanceRecord).filter_by(session_id=session.id, member_id=member.id))
    if record is not None and record.source != "sms":
        return
    if response == "decline" and record is None:
        db.session.add(
            AttendanceRecord(
                session_id=session.id,
                member_id=member.id,
                status="excused",
                source="sms",
                recorded_by=f"member:{member.id}",
                recorded_at=now,
                note="replied X to the reminder",
            )
        )
    elif response == "confirm" and record is not None:
        db.session.delete(record)


def _tell_facilitator(session: GroupSession, member: Member, now: datetime) -> None:
    group = session.group
    when = local_when(session.starts_at, group.facilitator.timezone)["when"]
    who = first_name(member.name, member.preferred_name)
    body = f"{who} (member {member.id}) can't come to {group.name} on {when}."
    plan_once(
        {
            "dedupe_key": f"f{group.facilitator_id}:s{session.id}:decline:m{member.id}",
            "kind": "rsvp_notice",
            "facilitator_id": group.facilitator_id,
            "group_id": group.id,
            "session_id": session.id,
            "due_at": now,
            "deadline_at": session.starts_at,
            "context": {"body": body},
        }
    )


_KEYWORDS = {"stop": _stop, "start": _start, "help": _help, "rsvp_confirm": _rsvp, "rsvp_decline": _rsvp}

_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 0,
    "sending": 1,
    "sent": 1,
    "delivered": 2,
    "undelivered": 2,
    "failed": 2,
    "read": 2,
}
_STORED = {"accepted": "queued", "scheduled": "queued", "sending": "sent", "read": "delivered"}


def record_delivery_status(provider_id: str, status: str, error_code: str | None) -> bool:
    """Record a delivery callback; never moves a message's status backwards, whatever the order."""
    message = db.session.scalar(select(Message).filter_by(provider_id=provider_id))
    if message is None or status not in _RANK:
        return False
    current = message.delivery_status
    if current is not None and _RANK.get(current, 0) >= _RANK[status]:
        return False
    message.delivery_status = _STORED.get(status, status)
    if status in ("undelivered", "failed"):
        message.reason = f"carrier reported {status}" + (f" (error {error_code})" if error_code else "")
    return True
