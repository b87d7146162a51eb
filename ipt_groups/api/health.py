"""Liveness for load balancers: 200 when the database answers, with what a monitor must see about
safety texts that have not reached anyone."""

from flask import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ipt_groups.api.clock import now
from ipt_groups.checkins.alerts import misdirected_open
from ipt_groups.checkins.escalation import safety_backlog
from ipt_groups.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 when the database answers (503 otherwise); `status` is `attention` while an open safety
    alert has a text that cannot arrive or is still retrying, or reached nobody, or while Twilio's
    webhooks come signed for another URL than PUBLIC_BASE_URL (an open operator alert). Still 200
    then: the web process is alive and must keep taking webhooks."""
    try:
        db.session.execute(text("SELECT 1"))
        safety = safety_backlog(now())
        webhooks = {"signed_for_another_url": misdirected_open()}
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable", "database": "no answer"}, 503
    attention = any(safety.values()) or any(webhooks.values())
    return {"status": "attention" if attention else "ok", "safety": safety, "webhooks": webhooks}
