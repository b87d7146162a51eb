"""Liveness for load balancers: 200 when the database answers, with what a monitor must see about
safety texts that have not reached anyone."""

from flask import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ipt_groups.api.clock import now
from ipt_groups.checkins.escalation import safety_backlog
from ipt_groups.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 when the database answers (503 otherwise); `status` is `attention` while an open safety
    alert has a text that cannot arrive or is still retrying, or reached nobody. Still 200 then: the
    web process is alive and must keep taking webhooks."""
    try:
        db.session.execute(text("SELECT 1"))
        safety = safety_backlog(now())
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable", "database": "no answer"}, 503
    return {"status": "attention" if any(safety.values()) else "ok", "safety": safety}
