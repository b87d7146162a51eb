"""Who is told of a safety alert, and when. Level 0, at once: a member's group facilitator and the
on-call number, or for a member in no group and a stranger, the on-call number and every active
coordinator with a phone. Then, while nobody has acknowledged it, every ESCALATE_AFTER_MINUTES, one
level up: the on-call number and every active coordinator again, day and night. Every step is data:
the alert's `escalation_level` and `next_escalation_at`, and one outbox row per person told."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select, update

from ipt_groups.extensions import db
from ipt_groups.messaging.outbox import plan_once
from ipt_groups.messaging.texts import first_name
from ipt_groups.models import Alert, Coordinator, Group, Member, Message
from ipt_groups.models.survey import UNDELIVERED_STATES

log = logging.getLogger(__name__)

SAFETY_TEXT = (
    "URGENT from {programme}: member {member_id} ({first_name}) of {group} needs same-day follow-up "
    "(alert {alert_id}). Please call them and record it in the system."
)
STRANGER_SAFETY_TEXT = (
    "URGENT from {programme}: {phone}, a number not in the programme, texted words of crisis "
    "(alert {alert_id}). Please call them and record it in the system."
)
REMINDER_TEXT = "NOT YET ACKNOWLEDGED after {minutes} min (reminder {level}). "
NOBODY = (
    "nobody could be texted: no group facilitator, no ONCALL_PHONE and no active coordinator with a phone"
)


@dataclass(frozen=True)
class Target:
    """One person to text: their role, the part of the dedupe key naming them, the outbox fields."""

    role: str
    key: str
    fields: dict
    phone: str


def escalation_interval() -> timedelta:
    """ESCALATE_AFTER_MINUTES (at least one minute) as a timedelta."""
    return timedelta(minutes=max(1, int(current_app.config["ESCALATE_AFTER_MINUTES"])))


def notify_round(alert: Alert, now: datetime) -> int:
    """Plan the texts of the alert's current level; with nobody to text, log an ERROR and say so on
    the alert. Returns how many texts were planned."""
    targets = _targets(alert)
    if not targets:
        log.error("safety alert %s (level %s): %s", alert.id, alert.escalation_level, NOBODY)
        alert.detail = {**alert.detail, "warning": NOBODY}
        return 0
    body = _text(alert, now)
    return sum(_plan(alert, target, body, now) for target in targets)


def escalate_due(now: datetime) -> int:
    """Take every open safety alert whose next escalation has come one level up and text that round;
    returns how many escalated. The scheduler runs it every tick and on every wake-up."""
    due = (
        select(Alert)
        .where(Alert.kind == "safety", Alert.acknowledged_at.is_(None), Alert.next_escalation_at <= now)
        .order_by(Alert.next_escalation_at, Alert.id)
    )
    return sum(_escalate(alert, now) for alert in db.session.scalars(due).all())


def _escalate(alert: Alert, now: datetime) -> bool:
    # Compare-and-set: an acknowledgement (or another scheduler) since the read leaves it alone.
    level = alert.escalation_level
    taken = db.session.execute(
        update(Alert)
        .where(Alert.id == alert.id, Alert.acknowledged_at.is_(None), Alert.escalation_level == level)
        .values(escalation_level=level + 1, next_escalation_at=now + escalation_interval())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not taken:
        return False
    db.session.refresh(alert)
    log.warning("safety alert %s not acknowledged: escalated to level %s", alert.id, alert.escalation_level)
    notify_round(alert, now)
    return True


def _targets(alert: Alert) -> list[Target]:
    group = db.session.get(Group, alert.group_id) if alert.group_id is not None else None
    first = _facilitator(group) + _oncall() + ([] if group is not None else _coordinators())
    if alert.escalation_level == 0:
        return _distinct(first)
    later = _distinct(_oncall() + _coordinators())
    if not later and first:
        log.warning(
            "safety alert %s: no on-call number or coordinator to escalate to; first round again", alert.id
        )
    return later or _distinct(first)


def _facilitator(group: Group | None) -> list[Target]:
    if group is None:
        return []
    phone = group.facilitator.phone
    return [Target("facilitator", "facilitator", {"facilitator_id": group.facilitator_id}, phone)]


def _oncall() -> list[Target]:
    phone = current_app.config.get("ONCALL_PHONE")
    return [Target("oncall", "oncall", {"to_phone": phone}, phone)] if phone else []


def _coordinators() -> list[Target]:
    return [
        Target("coordinator", f"c{c.id}", {"coordinator_id": c.id}, c.phone) for c in reachable_coordinators()
    ]


def reachable_coordinators() -> list[Coordinator]:
    """Active coordinators with a phone, in id order."""
    query = select(Coordinator).where(Coordinator.active.is_(True), Coordinator.phone.is_not(None))
    return list(db.session.scalars(query.order_by(Coordinator.id)))


def _distinct(targets: list[Target]) -> list[Target]:
    """One text per phone a round: the on-call phone may be a coordinator's own."""
    kept: dict[str, Target] = {}
    for target in targets:
        kept.setdefault(target.phone, target)
    return list(kept.values())


def _plan(alert: Alert, target: Target, body: str, now: datetime) -> int:
    level = alert.escalation_level
    key = f"alert{alert.id}:{target.key}" + (f":L{level}" if level else "")
    message = plan_once(
        {
            "dedupe_key": key,
            "kind": "safety_alert",
            "due_at": now,
            "created_at": now,
            "group_id": alert.group_id,
            "alert_id": alert.id,
            "context": {"body": body, "role": target.role, "level": level},
            **target.fields,
        }
    )
    if message is None:
        return 0
    entry = {"to": target.role, "level": level, "message_id": message.id, "planned_at": now.isoformat()}
    alert.notified = [*alert.notified, entry]
    return 1


def _text(alert: Alert, now: datetime) -> str:
    config = current_app.config
    if alert.member_id is None:
        phone = alert.detail.get("from_phone")
        body = STRANGER_SAFETY_TEXT.format(programme=config["PROGRAMME_NAME"], phone=phone, alert_id=alert.id)
    else:
        member = db.session.get(Member, alert.member_id)
        group = db.session.get(Group, alert.group_id) if alert.group_id is not None else None
        body = SAFETY_TEXT.format(
            programme=config["PROGRAMME_NAME"],
            member_id=member.id,
            first_name=first_name(member.name, member.preferred_name),
            group=group.name if group else "no group (waitlist)",
            alert_id=alert.id,
        )
    if not alert.escalation_level:
        return body
    minutes = int((now - alert.created_at).total_seconds() // 60)
    return REMINDER_TEXT.format(minutes=minutes, level=alert.escalation_level) + body


STUCK_AFTER = timedelta(minutes=5)


def safety_backlog(now: datetime) -> dict[str, int]:
    """What a monitor must see about open (unacknowledged) safety alerts: texts that cannot arrive
    (refused for good, suppressed, or reported undelivered by the carrier), texts still not accepted
    STUCK_AFTER after they were planned, and alerts nobody could be texted about. Cheap: it reads
    only open safety alerts and their texts."""
    open_alerts = select(Alert.id).where(Alert.kind == "safety", Alert.acknowledged_at.is_(None))
    texts = select(func.count()).select_from(Message).where(Message.alert_id.in_(open_alerts))
    cannot_arrive = or_(
        Message.state.in_(UNDELIVERED_STATES), Message.delivery_status.in_(("undelivered", "failed"))
    )
    stuck = and_(Message.state.in_(("pending", "sending")), Message.created_at <= now - STUCK_AFTER)
    told = select(Message.id).where(Message.alert_id == Alert.id).exists()
    nobody = select(func.count()).select_from(Alert).where(Alert.id.in_(open_alerts), ~told)
    return {
        "undelivered": db.session.scalar(texts.where(cannot_arrive)),
        "retrying": db.session.scalar(texts.where(stuck)),
        "nobody_told": db.session.scalar(nobody),
    }
