"""What the web process tells its operators: a request id on every request (an incoming
`X-Request-ID`, or a new one; returned on the response and on every log line), one log line per
request (path without its query string: feed keys stay out of logs), and Prometheus metrics at
`/metrics` for the holder of MONITORING_TOKEN: requests by route and status with latency (summed
over gunicorn's workers in multiprocess mode), and what the database says at the scrape (outbox rows
by state, the due backlog, open alerts, safety counts, the scheduler's heartbeat)."""

from __future__ import annotations

import hmac
import logging
import re
import time
import uuid
from datetime import datetime, timedelta

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from ipt_groups import logs
from ipt_groups.api.clock import now
from ipt_groups.checkins.escalation import safety_backlog, unacknowledged_past_escalation
from ipt_groups.extensions import db
from ipt_groups.messaging.outbox import due_backlog
from ipt_groups.messaging.workers import scheduler_state
from ipt_groups.models import Alert, Message
from ipt_groups.models.message import MESSAGE_STATES
from ipt_groups.models.survey import ALERT_KINDS

log = logging.getLogger("ipt_groups.requests")
bp = Blueprint("monitoring", __name__)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
MISSED_TICKS = 3  # the scheduler is down once its leader has not beaten for this many tick intervals

REQUESTS = Counter(
    "ipt_http_requests_total", "HTTP requests by route, method and status", ["route", "method", "status"]
)
LATENCY = Histogram(
    "ipt_http_request_duration_seconds",
    "HTTP request latency by route and method",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def install(app: Flask) -> None:
    """Request ids, request logs and request metrics on every request of the app."""
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_request(_teardown)
    app.register_blueprint(bp)


def _start() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.log_token, g.started = logs.bind(g.request_id), time.perf_counter()


def _finish(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    route = request.url_rule.rule if request.url_rule else "unmatched"  # bounded: never the raw path
    elapsed = time.perf_counter() - g.get("started", time.perf_counter())
    REQUESTS.labels(route, request.method, str(response.status_code)).inc()
    LATENCY.labels(route, request.method).observe(elapsed)
    fields = {"method": request.method, "route": route, "status": response.status_code}
    fields["duration_ms"] = round(elapsed * 1000, 1)
    log.info("%s %s %s %.1f ms", request.method, request.path, response.status_code, elapsed * 1000,
             extra={"fields": fields})  # fmt: skip
    return response


def _teardown(_exc) -> None:
    token = g.pop("log_token", None)
    if token is not None:
        logs.unbind(token)


def monitoring_token_given() -> bool:
    """Whether the request carries MONITORING_TOKEN as its bearer token (never, while it is unset)."""
    expected = current_app.config.get("MONITORING_TOKEN") or ""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), expected)


@bp.get("/metrics")
def metrics():
    """Prometheus metrics, for the holder of MONITORING_TOKEN (403 otherwise, and while it is unset)."""
    if not monitoring_token_given():
        return {
            "message": "metrics need the monitoring token: 'Authorization: Bearer <MONITORING_TOKEN>'"
        }, 403
    body = _process_metrics() + generate_latest(_database_registry())
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


def _process_metrics() -> bytes:
    """This process's metrics, or under gunicorn every worker's summed (multiprocess mode)."""
    if not current_app.config.get("PROMETHEUS_MULTIPROC_DIR"):
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)


def _database_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(DatabaseCollector())
    return registry


def readiness(at: datetime, tick_s: int) -> dict:
    """The scheduler's heartbeat, the due backlog and the safety counts, with a verdict: the
    scheduler is down once its leader has missed three ticks."""
    scheduler = scheduler_state(at, timedelta(seconds=MISSED_TICKS * tick_s))
    age = scheduler["heartbeat_age_s"]
    scheduler["missed_ticks"] = None if age is None else int(age // tick_s)
    due, oldest = due_backlog(at)
    outbox = {
        "due": due,
        "oldest_due_age_s": None if oldest is None else round((at - oldest).total_seconds(), 1),
    }
    safety = safety_backlog(at) | {"unacknowledged_past_escalation": unacknowledged_past_escalation(at)}
    if age is None or age > MISSED_TICKS * tick_s:
        status = "scheduler_down"
    else:
        status = "attention" if any(safety.values()) else "ok"
    return {"status": status, "scheduler": scheduler, "outbox": outbox, "safety": safety}


class DatabaseCollector:
    """Gauges read from the database at the scrape: right whichever worker answers it."""

    def collect(self):
        report = readiness(now(), current_app.config["SCHEDULER_TICK_SECONDS"])
        states = dict.fromkeys(MESSAGE_STATES, 0) | _outbox_states()
        yield _by_label("ipt_outbox_messages", "Outbox rows by state", "state", states)
        yield _gauge(
            "ipt_outbox_due_messages", "Pending messages whose due time has passed", report["outbox"]["due"]
        )
        oldest = report["outbox"]["oldest_due_age_s"] or 0.0
        yield _gauge("ipt_outbox_oldest_due_age_seconds", "Age of the oldest due, unsent message", oldest)
        alerts = dict.fromkeys(ALERT_KINDS, 0) | _open_alerts()
        yield _by_label("ipt_alerts_open", "Unacknowledged alerts by kind", "kind", alerts)
        yield _by_label("ipt_safety", "Safety counts (as /readyz reports them)", "count", report["safety"])
        scheduler = report["scheduler"]
        yield _gauge(
            "ipt_scheduler_processes",
            "Scheduler processes beating within three ticks",
            scheduler["processes"],
        )
        age = scheduler["heartbeat_age_s"]
        yield _gauge(
            "ipt_scheduler_heartbeat_age_seconds",
            "Seconds since the leading scheduler's last heartbeat (+Inf: none ever)",
            float("inf") if age is None else age,
        )


def _outbox_states() -> dict[str, int]:
    return dict(db.session.execute(select(Message.state, func.count()).group_by(Message.state)).all())


def _open_alerts() -> dict[str, int]:
    query = select(Alert.kind, func.count()).where(Alert.acknowledged_at.is_(None)).group_by(Alert.kind)
    return dict(db.session.execute(query).all())


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _by_label(name: str, doc: str, label: str, values: dict) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family
