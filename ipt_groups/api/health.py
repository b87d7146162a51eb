"""Health: `/healthz`, the cheap liveness check for load balancers (200 while the database answers,
with the safety counts a monitor must see), and `/readyz`, the check a monitor alerts on: 503 when
the scheduler has missed three ticks, and, with the monitoring token, the detail (heartbeat age,
due-but-unsent messages, safety texts that cannot arrive, alerts unacknowledged past escalation).
`/readyz` is not for load balancers: webhooks must keep arriving while the scheduler is down."""

from flask import Blueprint, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ipt_groups.api.clock import now
from ipt_groups.api.monitoring import monitoring_token_given, readiness
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


@bp.get("/readyz")
def readyz():
    """503 when the scheduler has missed three ticks (or the database does not answer); `status` is
    `attention` while a safety count is above 0. The detail needs the monitoring token."""
    try:
        report = readiness(now(), current_app.config["SCHEDULER_TICK_SECONDS"])
    except SQLAlchemyError:
        db.session.rollback()
        return {"status": "unavailable", "database": "no answer"}, 503
    code = 503 if report["status"] == "scheduler_down" else 200
    return (report if monitoring_token_given() else {"status": report["status"]}), code
