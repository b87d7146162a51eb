"""The scheduler's Prometheus metrics (its own registry, served on SCHEDULER_METRICS_PORT); the web's
are in api/monitoring.py. Nothing here imports Flask or the database: messaging/ counts through it."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)
SCHEDULER_REGISTRY = CollectorRegistry()
# Seconds from a message's due time to its hand-over to the provider: reminders must not arrive late.
LATENESS_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200)

HANDOVER_LATENESS = Histogram(
    "ipt_dispatch_lateness_seconds",
    "Seconds from a message's due time to its hand-over to the SMS provider",
    ["lane"],
    buckets=LATENESS_BUCKETS,
    registry=SCHEDULER_REGISTRY,
)
OUTCOMES = Counter(
    "ipt_dispatch_outcomes_total",
    "Claimed messages by what became of them (sent, failed, unknown, retrying, deferred, ...)",
    ["outcome"],
    registry=SCHEDULER_REGISTRY,
)
PROVIDER_ERRORS = Counter(
    "ipt_sms_provider_errors_total",
    "SMS provider errors by class: retryable, unknown outcome, or permanent with its kind",
    ["error"],
    registry=SCHEDULER_REGISTRY,
)
TICKS = Counter("ipt_scheduler_ticks_total", "Ticks run, by role", ["role"], registry=SCHEDULER_REGISTRY)
TICK_SECONDS = Histogram(
    "ipt_scheduler_tick_seconds",
    "How long a tick took, sends included",
    buckets=(0.05, 0.25, 1, 5, 15, 30, 60, 120, 300),
    registry=SCHEDULER_REGISTRY,
)
TICK_FAILURES = Counter(
    "ipt_scheduler_tick_failures_total",
    "Ticks that failed (the next one tries again)",
    registry=SCHEDULER_REGISTRY,
)
LEADER = Gauge(
    "ipt_scheduler_leader", "1 while this process holds the scheduler lock", registry=SCHEDULER_REGISTRY
)


def observe_handover(due_at: datetime, at: datetime, safety: bool) -> None:
    """A message was handed to the provider at `at`."""
    lateness = max(0.0, (at - due_at).total_seconds())
    HANDOVER_LATENESS.labels("safety" if safety else "normal").observe(lateness)


def count_outcome(outcome: str) -> None:
    """What became of one claimed message in a tick."""
    OUTCOMES.labels(outcome).inc()


def count_provider_error(error: str) -> None:
    """One provider error of this class (`retryable`, `unknown`, `permanent:<kind>`)."""
    PROVIDER_ERRORS.labels(error).inc()


@contextmanager
def timed_tick(lead: bool) -> Iterator[None]:
    """Count and time one tick."""
    TICKS.labels("leader" if lead else "follower").inc()
    started = time.monotonic()
    try:
        yield
    finally:
        TICK_SECONDS.observe(time.monotonic() - started)


def serve_scheduler_metrics(config: Mapping) -> int | None:
    """Serve this process's metrics on SCHEDULER_METRICS_PORT (0: not served); returns the port."""
    port = int(config.get("SCHEDULER_METRICS_PORT") or 0)
    if not port:
        return None
    start_http_server(
        port, addr=config.get("SCHEDULER_METRICS_ADDR") or "127.0.0.1", registry=SCHEDULER_REGISTRY
    )
    log.info("scheduler metrics on port %s", port)
    return port
