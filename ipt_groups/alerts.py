"""Alerts a person must see: safety signals reach the facilitator and the on-call number at once,
with a record of who was told and when; outreach tasks; acknowledgement is audited."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import Select, select

from ipt_groups.audit import audited_update
from ipt_groups.errors import Conflict
from ipt_groups.extensions import db
from ipt_groups.messaging.outbox import plan_once
from ipt_groups.models import Alert, Enrolment, Group, Member
from ipt_groups.roster import get_or_404

SAFETY_TEXT = (
    "URGENT from {programme}: member {member_id} ({first_name}) of {group} needs same-day follow-up "
    "(alert {alert_id}). Please call them and record it in the system."
)
STRANGER_SAFETY_TEXT = (
    "URGENT from {programme}: {phone}, a number not in the programme, texted words of crisis "
    "(alert {alert_id}). Please call them and record it in the system."
)


def current_group(member_id: int) -> Group | None:
    """The group the member is in now, if any."""
    enrolment = db.session.scalar(select(Enrolment).filter_by(member_id=member_id, left_on=None))
    return enrolment.group if enrolment else None


def raise_safety_alert(
    member: Member | None, source: str, detail: dict, now: datetime, session_id=None, from_phone=None
) -> Alert:
    """Record a safety alert and text the facilitator and the on-call number straight away. A sender
    who is not a member (`member` None) is named by `from_phone`."""
    group = current_group(member.id) if member is not None else None
    if member is None:
        detail = {**detail, "from_phone": from_phone}
    alert = Alert(
        kind="safety",
        member_id=member.id if member is not None else None,
        group_id=group.id if group else None,
        session_id=session_id,
        detail={"source": source, **detail},
        created_at=now,
        notified=[],
    )
    db.session.add(alert)
    db.session.flush()
    recipients = []
    if group is not None:
        recipients.append(("facilitator", {"facilitator_id": group.facilitator_id}))
    if current_app.config.get("ONCALL_PHONE"):
        recipients.append(("oncall", {"to_phone": current_app.config["ONCALL_PHONE"]}))
    text = _safety_text(alert, member, group)
    for name, who in recipients:
        message = plan_once(
            {
                "dedupe_key": f"alert{alert.id}:{name}",
                "kind": "safety_alert",
                "due_at": now,
                "group_id": alert.group_id,
                "context": {"body": text},
                **who,
            }
        )
        alert.notified = [
            *alert.notified,
            {"to": name, "message_id": message.id, "planned_at": now.isoformat()},
        ]
    if not recipients:
        alert.detail = {**alert.detail, "warning": "no facilitator or on-call number to text; see this alert"}
    return alert


def _safety_text(alert: Alert, member: Member | None, group: Group | None) -> str:
    if member is None:
        return STRANGER_SAFETY_TEXT.format(
            programme=current_app.config["PROGRAMME_NAME"],
            phone=alert.detail.get("from_phone"),
            alert_id=alert.id,
        )
    return SAFETY_TEXT.format(
        programme=current_app.config["PROGRAMME_NAME"],
        member_id=member.id,
        first_name=member.name.split(" ")[0],
        group=group.name if group else "no group",
        alert_id=alert.id,
    )


def raise_once(kind: str, key: str, now: datetime, **fields) -> Alert | None:
    """An alert identified by `key`, created only the first time; None if it already existed."""
    if db.session.scalar(select(Alert.id).filter_by(dedupe_key=key)):
        return None
    alert = Alert(kind=kind, dedupe_key=key, created_at=now, notified=[], **fields)
    db.session.add(alert)
    db.session.flush()
    return alert


def list_alerts(filters: dict, facilitator_id: int | None) -> Select:
    """Alerts, newest first; open ones only unless asked; a facilitator sees their groups' alerts."""
    query = select(Alert).order_by(Alert.created_at.desc(), Alert.id.desc())
    if facilitator_id is not None:
        query = query.join(Group, Group.id == Alert.group_id).where(Group.facilitator_id == facilitator_id)
    if not filters.get("include_acknowledged"):
        query = query.where(Alert.acknowledged_at.is_(None))
    for key in ("kind", "group_id", "member_id"):
        if key in filters:
            query = query.where(getattr(Alert, key) == filters[key])
    return query


def acknowledge(alert_id: int, note: str | None, actor: str, now: datetime) -> Alert:
    """A person has seen the alert and acted; who and when are kept."""
    alert = get_or_404(Alert, alert_id)
    if alert.acknowledged_at is not None:
        raise Conflict("already acknowledged", {"id": [f"acknowledged by {alert.acknowledged_by}"]})
    changes = {"acknowledged_at": now, "acknowledged_by": actor}
    if note:
        changes["detail"] = {**alert.detail, "ack_note": note}
    return audited_update(actor, "alert.ack", alert, changes)
