"""What a permanent refusal from the provider changes: the member's phone, their consent, or an
alert for the operator."""

from __future__ import annotations

from datetime import datetime

from ipt_groups.extensions import db
from ipt_groups.messaging.base import PermanentSendError
from ipt_groups.messaging.outbox import cancel_pending
from ipt_groups.models import Alert, Member, Message


def apply_permanent_failure(message: Message, exc: PermanentSendError, now: datetime) -> None:
    """Flag a bad phone, record an opt-out the carrier reports, or alert the operator."""
    member = db.session.get(Member, message.member_id) if message.member_id else None
    if exc.kind in ("invalid_number", "not_mobile") and member is not None:
        member.phone_problem = exc.kind
        raise_operator_alert(f"phone:{member.id}", {"member_id": member.id, "problem": exc.kind}, now, member)
    elif exc.kind == "unsubscribed" and member is not None:
        opt_out(member, now, "carrier reported unsubscribed (21610)")
    elif exc.kind == "config":
        raise_operator_alert(
            f"config:{exc.code}:{now:%Y-%m-%d}", {"code": exc.code, "reason": exc.reason}, now
        )


def opt_out(member: Member, now: datetime, source: str) -> int:
    """STOP: no further message of any kind; consent withdrawn with its time and source."""
    member.opted_out_at = member.opted_out_at or now
    member.sms_consent, member.sms_consent_at, member.sms_consent_source = False, now, source
    return cancel_pending(Message.member_id == member.id, reason="the member opted out")


def raise_operator_alert(key: str, detail: dict, now: datetime, member: Member | None = None) -> Alert:
    """An alert for the operator, once per key."""
    alert = db.session.scalar(db.select(Alert).filter_by(dedupe_key=f"operator:{key}"))
    if alert is None:
        alert = Alert(
            kind="operator",
            dedupe_key=f"operator:{key}",
            detail=detail,
            created_at=now,
            member_id=member.id if member else None,
        )
        db.session.add(alert)
    return alert
