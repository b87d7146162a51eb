"""What operators see: /readyz (503 once the scheduler has missed three ticks), Prometheus metrics
parsed back, request ids, and JSON log lines with no phone number and no message body in them."""

import io
import json
import logging
from datetime import timedelta

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from ipt_groups.extensions import db as _db
from ipt_groups.leader import Leadership
from ipt_groups.logs import configure_logging
from ipt_groups.messaging.base import RecordingSender, RetryableSendError
from ipt_groups.messaging.outbox import plan_messages
from ipt_groups.messaging.twilio import compute_twilio_signature
from ipt_groups.metrics import SCHEDULER_REGISTRY
from ipt_groups.worker import Dispatcher, tick
from tests.conftest import NOW

NOON_CHICAGO = NOW + timedelta(hours=6)  # outside the members' quiet hours

MONITOR = "monitor-secret"
WATCH = {"Authorization": f"Bearer {MONITOR}"}


@pytest.fixture(autouse=True)
def monitoring(app, monkeypatch):
    monkeypatch.setitem(app.config, "MONITORING_TOKEN", MONITOR)
    monkeypatch.setitem(app.config, "SCHEDULER_TICK_SECONDS", 15)


def _scheduler_beats_at(app, at) -> None:
    dispatcher = Dispatcher(app, RecordingSender(), None, "sched-1", clock=lambda: at)
    lock = Leadership(app)
    try:
        dispatcher.keep_alive(lock)
    finally:
        lock.release()


# --- readiness ---------------------------------------------------------------------------------


def test_readyz_is_503_before_any_scheduler_has_beaten(client):
    r = client.get("/readyz", headers=WATCH)
    assert r.status_code == 503 and r.json["status"] == "scheduler_down"
    assert r.json["scheduler"] == {"processes": 0, "heartbeat_age_s": None, "last_tick_age_s": None,
                                   "missed_ticks": None}  # fmt: skip


@pytest.mark.parametrize(
    ("beat_ago_s", "code", "missed"), [(0, 200, 0), (44, 200, 2), (45, 200, 3), (46, 503, 3), (600, 503, 40)]
)
def test_readyz_is_503_once_the_heartbeat_stops_for_three_ticks(app, client, beat_ago_s, code, missed):
    _scheduler_beats_at(app, NOW - timedelta(seconds=beat_ago_s))
    r = client.get("/readyz", headers=WATCH)
    assert r.status_code == code
    assert r.json["scheduler"]["heartbeat_age_s"] == beat_ago_s
    assert r.json["scheduler"]["missed_ticks"] == missed


def test_readyz_counts_the_due_backlog_and_its_oldest(app, client, make_member):
    member = make_member(0)
    rows = [{"dedupe_key": f"r{i}", "kind": "custom", "member_id": member.id, "context": {"body": "x"},
             "due_at": NOW - timedelta(minutes=i)} for i in range(1, 4)]  # fmt: skip
    rows.append({**rows[0], "dedupe_key": "later", "due_at": NOW + timedelta(hours=1)})
    plan_messages(rows)
    _db.session.commit()
    _scheduler_beats_at(app, NOW)
    r = client.get("/readyz", headers=WATCH)
    assert r.status_code == 200 and r.json["outbox"] == {"due": 3, "oldest_due_age_s": 180.0}
    assert set(r.json["safety"]) == {
        "undelivered",
        "retrying",
        "nobody_told",
        "unacknowledged_past_escalation",
    }


def test_readyz_without_the_monitoring_token_says_only_its_status(app, client):
    _scheduler_beats_at(app, NOW)
    assert client.get("/readyz").json == {"status": "ok"}
    assert client.get("/readyz", headers={"Authorization": "Bearer wrong"}).json == {"status": "ok"}


def test_a_follower_alone_is_no_scheduler(app, client):
    """Only the leader does the work that runs once (escalations): without one, the scheduler is down."""
    tick(app, RecordingSender(), None, "follower", NOW, lead=False)
    assert client.get("/readyz").status_code == 503


# --- metrics -----------------------------------------------------------------------------------


def _samples(text: str) -> dict:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_need_the_monitoring_token(client, app, monkeypatch):
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 403
    monkeypatch.setitem(app.config, "MONITORING_TOKEN", "")
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 403


def test_metrics_parse_and_count_requests_outbox_and_alerts(app, client, auth, make_member):
    member = make_member(0)
    plan_messages([{"dedupe_key": "m1", "kind": "custom", "member_id": member.id, "context": {"body": "x"},
                    "due_at": NOW - timedelta(minutes=10)}])  # fmt: skip
    _db.session.commit()
    _scheduler_beats_at(app, NOW - timedelta(seconds=20))
    before = _samples(client.get("/metrics", headers=WATCH).get_data(as_text=True))
    route = ("route", "/api/v1/members/<int:member_id>")
    key = ("ipt_http_requests_total", (("method", "GET"), route, ("status", "200")))
    for _ in range(3):
        assert client.get(f"/api/v1/members/{member.id}", headers=auth).status_code == 200
    client.get("/api/v1/members/99999", headers=auth)
    after = _samples(client.get("/metrics", headers=WATCH).get_data(as_text=True))
    assert after[key] - before.get(key, 0) == 3
    not_found = ("ipt_http_requests_total", (("method", "GET"), route, ("status", "404")))
    assert after[not_found] - before.get(not_found, 0) == 1
    latency = ("ipt_http_request_duration_seconds_count", (("method", "GET"), route))
    assert after[latency] - before.get(latency, 0) == 4
    assert after[("ipt_outbox_messages", (("state", "pending"),))] == 1
    assert after[("ipt_outbox_messages", (("state", "sent"),))] == 0
    assert after[("ipt_outbox_due_messages", ())] == 1
    assert after[("ipt_outbox_oldest_due_age_seconds", ())] == 600
    assert after[("ipt_alerts_open", (("kind", "safety"),))] == 0
    assert after[("ipt_scheduler_heartbeat_age_seconds", ())] == 20
    assert after[("ipt_scheduler_processes", ())] == 1


def test_the_scheduler_counts_outcomes_provider_errors_and_lateness(app, db, make_member):
    member = make_member(0)
    plan_messages([{"dedupe_key": f"s{i}", "kind": "custom", "member_id": member.id, "context": {"body": "x"},
                    "due_at": NOON_CHICAGO - timedelta(minutes=1)} for i in range(3)])  # fmt: skip
    _db.session.commit()
    before = _samples(generate_latest(SCHEDULER_REGISTRY).decode())
    sender = RecordingSender()
    sender.fail_next(RetryableSendError(20429, "Too Many Requests"))
    tick(app, sender, None, "w", NOON_CHICAGO)
    after = _samples(generate_latest(SCHEDULER_REGISTRY).decode())

    def grew(name, labels=()):
        return after.get((name, labels), 0) - before.get((name, labels), 0)

    assert grew("ipt_sms_provider_errors_total", (("error", "retryable"),)) == 1
    assert grew("ipt_dispatch_outcomes_total", (("outcome", "sent"),)) == 2
    assert grew("ipt_dispatch_outcomes_total", (("outcome", "retrying"),)) == 1
    assert grew("ipt_dispatch_lateness_seconds_count", (("lane", "normal"),)) == 2
    assert grew("ipt_scheduler_ticks_total", (("role", "leader"),)) == 1


# --- logs --------------------------------------------------------------------------------------


@pytest.fixture
def json_logs(app):
    """Every log line of the test, as the production processes write them (JSON), in a buffer."""
    root, saved = logging.getLogger(), (logging.getLogger().handlers[:], logging.getLogger().level)
    buffer = io.StringIO()
    configure_logging({"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}, stream=buffer)
    yield buffer
    root.handlers[:], _ = saved[0], root.setLevel(saved[1])


def _signed_sms(client, app, body: str, sender: str, sid: str):
    params = {"MessageSid": sid, "From": sender, "To": "+12025550100", "Body": body}
    signature = compute_twilio_signature(
        app.config["TWILIO_AUTH_TOKEN"], "http://localhost/twilio/sms", params
    )
    return client.post(
        "/twilio/sms", data=params, headers={"X-Twilio-Signature": signature, "X-Request-ID": sid}
    )


def test_logs_of_inbound_and_outbound_sms_are_json_with_no_phone_and_no_body(
    app, client, member, json_logs, monkeypatch
):
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", "log-test-token")
    monkeypatch.setitem(app.config, "ONCALL_PHONE", "+12025550999")
    bodies = ["HELP", "I want to kill myself tonight", "two, more than half the days", "what time is group"]
    for i, body in enumerate(bodies):
        assert _signed_sms(client, app, body, member.phone, f"SMlog{i:030d}").status_code == 200
    stranger = "+14155550123"
    _signed_sms(client, app, "quiero matarme", stranger, "SMlogstranger00000000000000000001")
    sender = RecordingSender()
    stats = tick(app, sender, None, "w-logs", NOW + timedelta(days=6, hours=5))
    assert stats.by_outcome.get("sent") and sender.sent  # replies, safety texts and reminders left
    lines = json_logs.getvalue().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert entries and all({"ts", "level", "logger", "message", "request_id"} <= set(e) for e in entries)
    requests = [e for e in entries if e["logger"] == "ipt_groups.requests"]
    assert [e["request_id"] for e in requests] == [f"SMlog{i:030d}" for i in range(4)] + [
        "SMlogstranger00000000000000000001"
    ]
    assert all(
        e["request_id"].startswith("tick-") for e in entries if e["logger"].startswith("ipt_groups.messaging")
    )
    text = json_logs.getvalue()
    phones = {member.phone, stranger, "+12025550999", *(m.to for m in sender.sent)}
    for phone in phones:
        assert phone not in text and phone[2:] not in text and phone[-10:] not in text
    for body in [*bodies[1:], "quiero matarme", *(m.body for m in sender.sent)]:
        assert body not in text


def test_the_request_id_is_taken_from_the_caller_or_made_and_returned(client):
    assert (
        client.get("/healthz", headers={"X-Request-ID": "lb-1234.abc"}).headers["X-Request-ID"]
        == "lb-1234.abc"
    )
    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"}).headers["X-Request-ID"]
    assert made != "bad id with spaces" and len(made) == 32
    assert client.get("/healthz").headers["X-Request-ID"] != made


def test_a_phone_number_written_into_a_log_line_is_masked(json_logs):
    logging.getLogger("ipt_groups.test").warning("member +13125551000 (or 3125551000) replied")
    entry = json.loads(json_logs.getvalue().splitlines()[-1])
    assert entry["message"] == "member +*******1000 (or ******1000) replied"


def test_apscheduler_and_twilio_client_chatter_is_silenced(json_logs):
    logging.getLogger("apscheduler.executors.default").info('Running job "dispatch"')
    logging.getLogger("twilio.http_client").info("-- BEGIN Twilio API Request --")
    logging.getLogger("apscheduler.executors.default").warning("Run time of job was missed")
    assert [json.loads(line)["message"] for line in json_logs.getvalue().splitlines()] == [
        "Run time of job was missed"
    ]
