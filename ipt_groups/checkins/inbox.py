"""Members' replies by SMS, and texts from anyone else. In order: the message is stored, read for
words of crisis (whoever sent it, in any language), then acted on. Keywords win over any open
conversation; RSVPs are routed to the next session even while a check-in is open; Twilio's retries of
the same message are answered from the first handling."""

from __future__ import annotations

from datetime import datetime, timedelta

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
from ipt_groups.cycles.reconcile import reconcile_member
from ipt_groups.extensions import db
from ipt_groups.formation.invitations import answer_invitation, cancel_invitations
from ipt_groups.messaging.languages import catalogues
from ipt_groups.messaging.outbox import plan_once
from ipt_groups.messaging.refusals import opt_out, safety_text_failed
from ipt_groups.messaging.texts import group_label, local_when, short_name
from ipt_groups.models import AttendanceRecord, Enrolment, GroupSession, InboundMessage, Member, Message, Rsvp
from ipt_groups.models.message import SAFETY_KINDS
from ipt_groups.settings.programme import catalogue_for, message_texts

CONSENT_KINDS = ("stop", "start")  # applied whatever else holds, as carriers apply them
SPLIT_WINDOW, SPLIT_TEXTS = timedelta(minutes=5), 3  # a crisis split over texts: how far back to read


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
    return None if db.session.scalar(earlier.limit(1)) else _text(None, "unknown_sender")


def _text(member: Member | None, key: str) -> str:
    """A reply in the member's language (English to a stranger)."""
    programme = current_app.config["PROGRAMME_NAME"]
    return catalogue_for(member.language if member else None).render(key, {"programme": programme})


def _kind(member: Member, body: str) -> str:
    """What the text is from this member: a carrier's YES opts in again only one who opted out."""
    kind = classify(body, member.language, catalogues()).kind
    if kind == "resubscribe":
        return "start" if member.opted_out_at is not None else "other"
    return kind


def _from_member(member: Member, record: InboundMessage, now: datetime, limited: bool, crisis: bool):
    record.kind = _kind(member, record.body)
    if record.kind in CONSENT_KINDS:
        reply = _KEYWORDS[record.kind](member, record, now)
        return None if limited else reply
    if crisis:
        return None  # words of crisis are not an answer: an open check-in waits, unchanged
    if record.kind in _KEYWORDS:
        return None if limited else _KEYWORDS[record.kind](member, record, now)
    return _other(member, record, now, limited or member.opted_out_at is not None)


def _crisis(member: Member | None, record: InboundMessage, now: datetime) -> str | None:
    language = member.language if member else None
    match, earlier = safety.detect(record.body, language), []
    if match is None:
        match, earlier = _split_crisis(record, language, now)
    if match is None:
        return None
    db.session.add(record)
    db.session.flush()  # the alert names the inbound message
    alert = safety.raise_crisis_alert(record, member, match, now, earlier)
    record.handled = {**record.handled, "alert_id": alert.id}
    return safety.crisis_line(language or match.language)


def _split_crisis(record: InboundMessage, language: str | None, now: datetime):
    """Words of crisis split over the sender's last texts ("I want to", "die"): found in the last
    one, two or three texts of SPLIT_WINDOW joined to this one, and not in those texts alone (which
    were read when they came). Returns the match and the ids of the earlier texts it spans."""
    recent = db.session.execute(
        select(InboundMessage.id, InboundMessage.body)
        .where(
            InboundMessage.from_phone == record.from_phone, InboundMessage.received_at >= now - SPLIT_WINDOW
        )
        .order_by(InboundMessage.received_at.desc(), InboundMessage.id.desc())
        .limit(SPLIT_TEXTS)
    ).all()
    for n in range(1, len(recent) + 1):
        before = " ".join(body for _, body in reversed(recent[:n]))
        match = safety.detect(f"{before} {record.body}", language)
        if match is not None and safety.detect(before, language) is None:
            return match, [i for i, _ in reversed(recent[:n])]
    return None, []


def _stop(member: Member, record: InboundMessage, now: datetime) -> None:
    cancelled = opt_out(member, now, f"SMS {record.body.strip()[:20].upper()}")
    close_open(member.id, now, "cancelled")
    cancel_invitations(member, now, "the member texted STOP")
    record.handled = {**record.handled, "cancelled_messages": cancelled}
    return None  # the carrier and Twilio confirm an opt-out themselves; a second text would be noise


def _start(member: Member, record: InboundMessage, now: datetime) -> str:
    """START: consent again, and the rest of the member's cycle is planned again (reminders, check-ins
    whose window is still open)."""
    member.opted_out_at, member.phone_problem = None, None
    member.sms_consent, member.sms_consent_at, member.sms_consent_source = True, now, "SMS START"
    db.session.flush()
    reconcile_member(member.id, now, "the member replied START")
    return _text(member, "start_reply")


def _help(member: Member, record: InboundMessage, now: datetime) -> str:
    """HELP in any language: the reply in the member's; HELP_TEXT, if set, is English readers' own."""
    english = catalogue_for(member.language).language == "en"
    if english and current_app.config.get("HELP_TEXT") and "help_reply" not in message_texts().get("en", {}):
        return current_app.config["HELP_TEXT"]
    return _text(member, "help_reply")


def _other(member: Member, record: InboundMessage, now: datetime, quiet: bool) -> str | None:
    """A check-in answer, a late answer to item 9, or an acknowledgement. `quiet` (over the rate
    limit, or opted out): only the item-9 answer is read, and nothing else is answered."""
    checkin = latest_for(member.id)
    if checkin is not None and checkin.status == "open":
        if quiet and not at_safety_item(checkin):
            return None
        record.kind, record.handled = "checkin_answer", {**record.handled, "checkin_id": checkin.id}
        return answer_checkin(checkin, member, record.body, now)
    if not quiet and (offer := _offer_answer(member, record, now)) is not None:
        return offer
    late = answer_late(checkin, member, record.body, now) if checkin is not None else None
    if late is not None:
        record.kind, record.handled = "checkin_answer", {**record.handled, "late_checkin_id": checkin.id}
        return late
    return None if quiet else _text(member, "ack")


def _offer_answer(member: Member, record: InboundMessage, now: datetime) -> str | None:
    """YES/SÍ or NO to the member's latest invitation to a group, if they have one to answer (never
    while a check-in is open: "no" and "sí" answer its item 9)."""
    kind = catalogues().offer_answer(record.body, member.language)
    reply = answer_invitation(member, kind, now) if kind else None
    if reply is not None:
        record.kind = kind
    return reply


def _rsvp(member: Member, record: InboundMessage, now: datetime) -> str:
    session = next_session(member.id, now)
    if session is None:
        return _text(member, "rsvp_no_session")
    response = "confirm" if record.kind == "rsvp_confirm" else "decline"
    rsvp = db.session.scalar(select(Rsvp).filter_by(session_id=session.id, member_id=member.id))
    if rsvp is None:
        rsvp = Rsvp(session_id=session.id, member_id=member.id)
        db.session.add(rsvp)
    rsvp.response, rsvp.responded_at = response, now
    _prefill_attendance(session, member, response, now)
    if response == "confirm":
        _withdraw_notice(session, member, now)
        return _text(member, "rsvp_confirmed")
    _tell_facilitator(session, member, now)
    return _text(member, "rsvp_declined")


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


def _tell_facilitator(
    session: GroupSession, member: Member, now: datetime, text: str = "rsvp_notice"
) -> None:
    group, facilitator = session.group, session.group.facilitator
    catalogue = catalogue_for(facilitator.language)
    when = local_when(session.starts_at, facilitator.timezone, catalogue, group.timezone)["when"]
    context = {
        "member": short_name(member.name, member.preferred_name),
        "member_id": member.id,
        "group": group_label(group.id, catalogue),
    }
    body = catalogue.render(text, context | {"when": when})
    which = "decline" if text == "rsvp_notice" else "withdrawn"
    plan_once(
        {
            "dedupe_key": f"f{group.facilitator_id}:s{session.id}:{which}:m{member.id}",
            "kind": "rsvp_notice",
            "facilitator_id": group.facilitator_id,
            "group_id": group.id,
            "session_id": session.id,
            "due_at": now,
            "deadline_at": session.starts_at,
            "context": {"body": body},
        }
    )


def _withdraw_notice(session: GroupSession, member: Member, now: datetime) -> None:
    """C after X: the facilitator's "can't come" notice is withdrawn; if it already went, they are told
    the member is coming after all (once)."""
    key = f"f{session.group.facilitator_id}:s{session.id}:decline:m{member.id}"
    notice = db.session.scalar(select(Message).filter_by(dedupe_key=key))
    if notice is None or notice.state == "cancelled":
        return
    if notice.state == "pending":
        notice.state, notice.reason = "cancelled", "withdrawn: the member replied C after X"
        return
    withdrawn = f"f{session.group.facilitator_id}:s{session.id}:withdrawn:m{member.id}"
    if db.session.scalar(select(Message.id).filter_by(dedupe_key=withdrawn)) is None:
        _tell_facilitator(session, member, now, "rsvp_withdrawn")


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


def record_delivery_status(provider_id: str, status: str, error_code: str | None, now: datetime) -> bool:
    """Record a delivery callback; never moves a message's status backwards, whatever the order. A
    safety text the carrier could not deliver is handled as one the provider refused for good."""
    message = db.session.scalar(select(Message).filter_by(provider_id=provider_id))
    if message is None or status not in _RANK:
        return False
    current = message.delivery_status
    if current is not None and _RANK.get(current, 0) >= _RANK[status]:
        return False
    message.delivery_status = _STORED.get(status, status)
    if status in ("undelivered", "failed"):
        message.reason = f"carrier reported {status}" + (f" (error {error_code})" if error_code else "")
        if message.kind in SAFETY_KINDS:
            safety_text_failed(message, error_code, message.reason, now)
        if str(error_code) == "21610" and message.member_id is not None:
            # the carrier's "recipient opted out" (a Messaging Service reports it here): as STOP
            member = db.session.get(Member, message.member_id)
            opt_out(member, now, "carrier reported unsubscribed (21610)")
            close_open(member.id, now, "cancelled")
    return True
