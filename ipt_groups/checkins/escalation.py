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
from ipt_groups.messaging.texts import first_name, group_label
from ipt_groups.models import Alert, Coordinator, Group, Member, Message
from ipt_groups.models.survey import UNDELIVERED_STATES
from ipt_groups.settings.programme import catalogue_for

log = logging.getLogger(__name__)

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
    language: str  # the language of their texts


def escalation_interval() -> timedelta:
    """ESCALATE_AFTER_MINUTES (at least one minute) as a timedelta."""
    return timedelta(minutes=max(1, int(current_app.config["ESCALATE_AFTER_MINUTES"])))


def notify_round(alert: Alert, now: datetime, more: int = 0) -> int:
    """Plan the texts of the alert's current level (with `more`, a count of the sender's texts since
    the last round: the same people told again); with nobody to text, log an ERROR and say so on the
    alert. Returns how many texts were planned."""
    targets = _targets(alert)
    if not targets:
        log.error("safety alert %s (level %s): %s", alert.id, alert.escalation_level, NOBODY)
        alert.detail = {**alert.detail, "warning": NOBODY}
        return 0
    bodies = {language: _text(alert, now, language, more) for language in {t.language for t in targets}}
    key = f":more{len(alert.detail.get('later', []))}" if more else ""
    return sum(_plan(alert, target, bodies[target.language], now, key) for target in targets)


def last_told(alert: Alert) -> datetime:
    """When the alert's people were last texted (planned), or when it was raised."""
    planned = [datetime.fromisoformat(entry["planned_at"]) for entry in alert.notified or []]
    return max(planned, default=alert.created_at)


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
    f = group.facilitator
    return [Target("facilitator", "facilitator", {"facilitator_id": f.id}, f.phone, f.language)]


def _oncall() -> list[Target]:
    phone, language = current_app.config.get("ONCALL_PHONE"), current_app.config["ONCALL_LANGUAGE"]
    return [Target("oncall", "oncall", {"to_phone": phone}, phone, language)] if phone else []


def _coordinators() -> list[Target]:
    return [
        Target("coordinator", f"c{c.id}", {"coordinator_id": c.id}, c.phone, c.language)
        for c in reachable_coordinators()
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


def _plan(alert: Alert, target: Target, body: str, now: datetime, suffix: str = "") -> int:
    level = alert.escalation_level
    key = f"alert{alert.id}:{target.key}" + (f":L{level}" if level else "") + suffix
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


def _text(alert: Alert, now: datetime, language: str, more: int = 0) -> str:
    """The alert's text in the reader's language; with `more`, how many texts the sender has sent
    since; at a later level, how long it has waited."""
    catalogue = catalogue_for(language)
    context = {"programme": current_app.config["PROGRAMME_NAME"], "alert_id": alert.id}
    if alert.member_id is None:
        body = catalogue.render("safety_alert_stranger", {**context, "phone": alert.detail.get("from_phone")})
    else:
        member = db.session.get(Member, alert.member_id)
        group = db.session.get(Group, alert.group_id) if alert.group_id is not None else None
        context |= {"member_id": member.id, "first_name": first_name(member.name, member.preferred_name)}
        body = catalogue.render("safety_alert", {**context, "group": _group_name(group, catalogue)})
    if more:
        body = f"{catalogue.render('safety_more', {'count': more})} {body}"
    if not alert.escalation_level:
        return body
    minutes = int((now - alert.created_at).total_seconds() // 60)
    level = alert.escalation_level
    waited = catalogue.render("safety_not_acknowledged", {"minutes": minutes, "level": level})
    return f"{waited} {body}"


def _group_name(group: Group | None, catalogue) -> str:
    """A neutral label (staff lock screens show it too), never the group's name."""
    return group_label(group.id, catalogue) if group is not None else catalogue.texts["safety_no_group"]


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


def unacknowledged_past_escalation(now: datetime) -> int:
    """Open safety alerts nobody acknowledged within ESCALATE_AFTER_MINUTES: they have escalated, or
    their escalation is due (a scheduler that does not escalate shows here too)."""
    past = or_(Alert.escalation_level >= 1, Alert.next_escalation_at <= now)
    open_safety = (Alert.kind == "safety", Alert.acknowledged_at.is_(None))
    return db.session.scalar(select(func.count()).select_from(Alert).where(*open_safety, past))
