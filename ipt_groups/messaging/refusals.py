"""What a permanent refusal from the provider changes: the member's phone, their consent, an alert
for the operator, and for a safety text the alert's escalation, brought forward to now."""

from __future__ import annotations

import logging
from datetime import datetime

from ipt_groups.extensions import db
from ipt_groups.messaging.base import PermanentSendError
from ipt_groups.messaging.outbox import cancel_pending
from ipt_groups.messaging.wakeup import wake_dispatcher
from ipt_groups.models import Alert, Member, Message
from ipt_groups.models.message import SAFETY_KINDS

log = logging.getLogger(__name__)


def apply_permanent_failure(message: Message, exc: PermanentSendError, now: datetime) -> None:
    """Flag a bad phone, record an opt-out the carrier reports, or alert the operator."""
    if message.kind in SAFETY_KINDS:
        safety_text_failed(message, exc.code, f"refused: {exc}", now)
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


def safety_text_failed(message: Message, code: int | str | None, reason: str, now: datetime) -> None:
    """A safety text that cannot arrive, refused for good by the provider or reported undelivered by
    the carrier (a dead or disconnected phone): an ERROR line, an operator alert, and when it was one
    of the alert's first round, the next round at once instead of after the interval. (A later round
    is itself an escalation: failing again at once would only loop on a dead number.)"""
    role = message.context.get("role", "recipient")
    log.error(
        "safety text %s of alert %s to the %s failed permanently: %s",
        message.id,
        message.alert_id,
        role,
        reason,
    )
    detail = {"message_id": message.id, "alert_id": message.alert_id, "to": role, "code": code}
    raise_operator_alert(f"safety:{message.id}", {**detail, "reason": reason[:200]}, now)
    alert = db.session.get(Alert, message.alert_id) if message.alert_id else None
    if alert is None or alert.acknowledged_at is not None or alert.next_escalation_at is None:
        return
    if message.context.get("level", 0) == 0 == alert.escalation_level and alert.next_escalation_at > now:
        alert.next_escalation_at = now
        note = f"the {role}'s number failed permanently ({code}): escalated at once"
        alert.detail = {**alert.detail, "escalated_at_once": note}
        wake_dispatcher("escalate")
