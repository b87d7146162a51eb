"""The people who coordinate the programme: added, changed and removed by coordinators (API, CLI),
every change audited. They are texted about safety alerts nobody else can take and whenever one
stays unacknowledged; a coordinator token may name one of them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from ipt_groups.audit import audited_update, record_change, snapshot
from ipt_groups.auth import delete_tokens
from ipt_groups.errors import Conflict
from ipt_groups.extensions import db
from ipt_groups.models import ApiToken, Coordinator, Message
from ipt_groups.people.roster import ensure_unique
from ipt_groups.signin import forget_person


def create_coordinator(data: dict, actor: str, now: datetime) -> Coordinator:
    """Add a coordinator (their phone, if any, is theirs alone among coordinators)."""
    if data.get("phone"):
        ensure_unique(Coordinator, "phone", data["phone"])
    coordinator = Coordinator(**data, created_at=now, updated_at=now)
    db.session.add(coordinator)
    db.session.flush()
    record_change(actor, "coordinator.create", coordinator, None, snapshot(coordinator))
    return coordinator


def update_coordinator(coordinator: Coordinator, changes: dict, actor: str) -> Coordinator:
    """Change a coordinator; `active: false` stops their alert texts without removing the record."""
    if changes.get("phone"):
        ensure_unique(Coordinator, "phone", changes["phone"], coordinator.id)
    return audited_update(actor, "coordinator.update", coordinator, changes)


def delete_coordinator(coordinator: Coordinator, actor: str) -> None:
    """Remove a coordinator who was never texted about an alert (and their tokens); anyone else is
    kept, as the record of who was told, and set inactive instead."""
    told = select(func.count()).where(Message.coordinator_id == coordinator.id, Message.kind != "signin_code")
    if db.session.scalar(told):
        raise Conflict(
            "coordinator was texted about alerts",
            {"id": ["they are part of alert records; set active to false instead"]},
        )
    delete_tokens(ApiToken.coordinator_id == coordinator.id, actor)
    forget_person("coordinator", coordinator.id)
    record_change(actor, "coordinator.delete", coordinator, snapshot(coordinator), None)
    db.session.delete(coordinator)
    db.session.flush()
