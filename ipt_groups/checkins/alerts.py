"""Alerts a person must see: safety signals reach a human at once and escalate until acknowledged,
with a record of who was told, when, and whether it arrived; outreach tasks; acknowledgement is
audited; the phone an alert is about is shown to those who must call it, and each read recorded."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, func, or_, select

from ipt_groups.access_log import record_read
from ipt_groups.audit import audited_update
from ipt_groups.auth import Principal
from ipt_groups.checkins.escalation import escalation_interval, last_told, notify_round
from ipt_groups.errors import Conflict
from ipt_groups.extensions import db
from ipt_groups.messaging.outbox import cancel_pending
from ipt_groups.models import Alert, Enrolment, Group, Member, Message


def raise_safety_alert(
    member: Member | None, source: str, detail: dict, now: datetime, session_id=None, from_phone=None
) -> Alert:
    """Record a safety alert and text its first round at once (escalation.py says who); it escalates
    every ESCALATE_AFTER_MINUTES until acknowledged. A sender who is not a member (`member` None) is
    named by `from_phone`."""
    enrolment = member.current_enrolment if member is not None else None
    group = enrolment.group if enrolment else None
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
        escalation_level=0,
        next_escalation_at=now + escalation_interval(),
    )
    db.session.add(alert)
    db.session.flush()
    notify_round(alert, now)
    return alert


# A sender's further signals text the alert's people again at most this often.
RENOTIFY_AFTER = timedelta(minutes=5)


def open_safety_alert(member: Member | None, from_phone: str | None) -> Alert | None:
    """The sender's newest unacknowledged safety alert: a member's, or a stranger's by number."""
    query = select(Alert).where(Alert.kind == "safety", Alert.acknowledged_at.is_(None))
    if member is not None:
        return db.session.scalar(query.where(Alert.member_id == member.id).order_by(Alert.id.desc()).limit(1))
    strangers = db.session.scalars(query.where(Alert.member_id.is_(None)).order_by(Alert.id.desc()))
    return next((a for a in strangers if a.detail.get("from_phone") == from_phone), None)


def add_to_alert(alert: Alert, entry: dict, now: datetime) -> Alert:
    """A further signal for an open alert (one flood of texts, one alert): kept in `detail.later`;
    its people are texted again, with how many came since, once RENOTIFY_AFTER has passed since
    they were last texted. The escalation goes on as it was."""
    told = last_told(alert)
    later = [*alert.detail.get("later", []), {**entry, "at": now.isoformat()}]
    alert.detail = {**alert.detail, "later": later}
    if now - told >= RENOTIFY_AFTER:
        notify_round(alert, now, more=sum(datetime.fromisoformat(e["at"]) > told for e in later))
    return alert


def raise_once(kind: str, key: str, now: datetime, **fields) -> Alert | None:
    """An alert identified by `key`, created only the first time; None if it already existed."""
    if db.session.scalar(select(Alert.id).filter_by(dedupe_key=key)):
        return None
    alert = Alert(kind=kind, dedupe_key=key, created_at=now, notified=[], **fields)
    db.session.add(alert)
    db.session.flush()
    return alert


MISDIRECTED = "operator:public_base_url:"  # the dedupe key's prefix of the alert below


def raise_misdirected_alert(detail: dict, now: datetime) -> Alert | None:
    """An operator alert that Twilio calls a URL PUBLIC_BASE_URL does not name, unless one is open
    (after its ack, the next such webhook raises a new one); None if one was open."""
    if misdirected_open():
        return None
    problem = "Twilio's webhooks are signed for another URL than PUBLIC_BASE_URL"
    key = f"{MISDIRECTED}{now:%Y%m%dT%H%M%S}:{uuid.uuid4().hex[:8]}"  # unique: two workers may race here
    return raise_once("operator", key, now, detail={"problem": problem, **detail})


def misdirected_open() -> int:
    """How many such operator alerts are open (0 or 1): /healthz shows it."""
    query = select(func.count()).select_from(Alert).where(Alert.kind == "operator")
    return db.session.scalar(
        query.where(Alert.acknowledged_at.is_(None), Alert.dedupe_key.startswith(MISDIRECTED))
    )


def list_alerts(filters: dict, facilitator_id: int | None) -> Select:
    """Alerts, newest first; open ones only unless asked; a facilitator sees the alerts of their
    groups (see `may_see`)."""
    query = select(Alert).order_by(Alert.created_at.desc(), Alert.id.desc())
    if facilitator_id is not None:
        theirs = select(Group.id).where(Group.facilitator_id == facilitator_id)
        members_now = select(Enrolment.member_id).where(
            Enrolment.group_id.in_(theirs), Enrolment.left_on.is_(None)
        )
        theirs_now = and_(Alert.acknowledged_at.is_(None), Alert.member_id.in_(members_now))
        query = query.where(or_(Alert.group_id.in_(theirs), theirs_now))
    if not filters.get("include_acknowledged"):
        query = query.where(Alert.acknowledged_at.is_(None))
    for key in ("kind", "group_id", "member_id"):
        if key in filters:
            query = query.where(getattr(Alert, key) == filters[key])
    if "kinds" in filters:
        query = query.where(Alert.kind.in_(filters["kinds"]))
    return query


def acknowledge(alert: Alert, note: str | None, actor: str, now: datetime) -> Alert:
    """A person has seen the alert and acted; who and when are kept. The escalation stops, and its
    safety texts not yet sent are cancelled."""
    # Locked and read again: an escalation round for this alert may be committing right now.
    db.session.refresh(alert, with_for_update=True)
    if alert.acknowledged_at is not None:
        raise Conflict("already acknowledged", {"id": [f"acknowledged by {alert.acknowledged_by}"]})
    changes = {"acknowledged_at": now, "acknowledged_by": actor, "next_escalation_at": None}
    if note:
        changes["detail"] = {**alert.detail, "ack_note": note}
    audited_update(actor, "alert.ack", alert, changes)
    cancel_pending(Message.alert_id == alert.id, reason="the alert was acknowledged", include_safety=True)
    return alert


def may_see(alert: Alert, who: Principal) -> bool:
    """Coordinators see every alert and the phone it is about; a facilitator, those of the member's
    group when it was raised (they were told, and may be calling) and, while it is open, those of
    the member's group now (a member who moved, or a waitlisted member since placed, is theirs to
    call; their history before that is not): both, when they differ."""
    return who.is_coordinator or (
        who.facilitator_id is not None and who.facilitator_id in _facilitators(alert)
    )


def _facilitators(alert: Alert) -> set[int]:
    groups = {alert.group_id} - {None}
    if alert.member_id is not None and alert.acknowledged_at is None:
        now_in = select(Enrolment.group_id).filter_by(member_id=alert.member_id, left_on=None)
        groups |= set(db.session.scalars(now_in))
    if not groups:
        return set()
    return set(db.session.scalars(select(Group.facilitator_id).where(Group.id.in_(groups))))


def reveal_phones(alerts: list[Alert], who: Principal, via: str, now: datetime) -> list[Alert]:
    """Put on each alert (`revealed_phone`) the phone it is about, for those who must call it, and
    record every such read (one entry per member, or per stranger's alerts, per request)."""
    shown = [a for a in alerts if (a.member_id is not None or a.detail.get("from_phone")) and may_see(a, who)]
    ids = {a.member_id for a in shown if a.member_id is not None}
    members = {m.id: m for m in db.session.scalars(select(Member).where(Member.id.in_(ids)))} if ids else {}
    reads: dict[int | None, list[int]] = {}
    for alert in shown:
        member = members.get(alert.member_id)
        alert.revealed_phone = member.phone if member is not None else alert.detail.get("from_phone")
        reads.setdefault(alert.member_id, []).append(alert.id)
    for member_id, alert_ids in reads.items():
        what = "member_phone" if member_id is not None else "sender_phone"
        record_read(who.actor, what, via, now, members.get(member_id), {"alert_ids": alert_ids})
    return alerts
