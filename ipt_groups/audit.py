"""The audit log: every change made through the API or the CLI, with before and after."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import inspect

from ipt_groups.extensions import db
from ipt_groups.models import AuditEntry


def snapshot(obj: Any) -> dict:
    """The row's column values as JSON-safe data."""
    return {c.key: _jsonable(getattr(obj, c.key)) for c in inspect(obj).mapper.column_attrs}


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def record_change(actor: str, action: str, entity: Any, before: dict | None, after: dict | None) -> None:
    """Add one audit entry (flushed with the change it describes, committed by the caller)."""
    db.session.add(
        AuditEntry(
            actor=actor,
            action=action,
            entity_type=type(entity).__tablename__,
            entity_id=_key(entity),
            before=before,
            after=after,
        )
    )


def _key(entity: Any) -> str | None:
    identity = inspect(entity).identity
    return "/".join(map(str, identity)) if identity else None


def audited_update(actor: str, action: str, entity: Any, changes: dict) -> Any:
    """Apply `changes` to `entity`, flush, and audit the before and after."""
    before = snapshot(entity)
    for key, value in changes.items():
        setattr(entity, key, value)
    db.session.flush()
    record_change(actor, action, entity, before, snapshot(entity))
    return entity
