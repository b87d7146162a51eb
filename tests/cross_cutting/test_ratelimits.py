"""Rate limits: per token on the API; per sending number on inbound SMS, counted only after the
signature and only ever sparing replies and non-safety work; a limiter store that is down."""

import logging
import socket

import pytest

from config import Config, TestingConfig
from ipt_groups.app import create_app
from ipt_groups.extensions import db as _db
from ipt_groups.extensions import limiter
from ipt_groups.messaging.twilio import compute_twilio_signature
from ipt_groups.models import Alert, AttendanceRecord, Checkin, InboundMessage, Member, Rsvp
from tests.checkins.test_webhooks import TOKEN, _send_checkin, reply, sms
from tests.conftest import NOW, count

CRISIS = "I am going to kill myself tonight"
PHONE = "+13125551000"


@pytest.fixture
def limits(app, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    monkeypatch.setitem(app.config, "WEBHOOK_RATE_LIMIT", "2 per minute")
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setitem(app.config, "ONCALL_PHONE", "+12025550999")
    limiter.reset()
    yield app
    limiter.reset()


@pytest.fixture
def default_limit(limits, monkeypatch):
    """The webhook limit as shipped (the test config raises it)."""
    monkeypatch.setitem(limits.config, "WEBHOOK_RATE_LIMIT", Config.WEBHOOK_RATE_LIMIT)


def test_api_is_limited_per_token(client, auth, limits, facilitator_auth, make_facilitator):
    codes = [client.get("/api/v1/members", headers=auth).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    other = facilitator_auth(make_facilitator(0).id)
    assert client.get("/api/v1/groups", headers=other).status_code == 200  # another token, its own count
    assert client.get("/healthz").status_code == 200


def test_over_the_limit_a_sender_is_stored_but_not_answered(client, limits, member):
    replies = [reply(sms(client, "hi")) for _ in range(3)]
    assert ["<Message>" in r for r in replies] == [True, True, False]
    assert count(InboundMessage) == 3
    assert [i.handled.get("rate_limited", False) for i in InboundMessage.query.order_by("id")] == [
        False,
        False,
        True,
    ]
    assert "<Message>" in reply(sms(client, "hi", sender="+13125559999"))  # another sender, its own count


def test_unsigned_floods_touch_no_counter(client, default_limit, member):
    for i in range(500):
        params = {"MessageSid": f"SMflood{i}", "From": PHONE, "Body": "hi"}
        assert client.post("/twilio/sms", data=params).status_code == 403
    assert count(InboundMessage) == 0
    text = reply(sms(client, CRISIS))
    assert "988" in text and "<Message>" in text
    alert = Alert.query.one()
    assert alert.member_id == member.id and alert.detail["source"] == "crisis_words"
    assert "Thanks, your message was received" in reply(sms(client, "thanks"))  # not over any limit


def test_the_101st_text_in_a_minute_is_a_crisis_and_reaches_a_human(client, default_limit, member):
    answered = [("<Message>" in reply(sms(client, f"text {i}"))) for i in range(100)]
    assert answered == [True] * 30 + [False] * 70  # the limit as shipped: 30 a minute
    text = reply(sms(client, CRISIS))
    assert "988" in text and "understand" not in text and "STOP" not in text
    assert count(InboundMessage) == 101 and count(Alert) == 1
    assert Alert.query.one().detail["inbound_id"] == InboundMessage.query.filter_by(body=CRISIS).one().id


def test_over_the_limit_consent_and_item_9_still_count(client, db, limits, member):
    for _ in range(2):
        sms(client, "hi")
    assert "<Message>" not in reply(sms(client, "X"))
    assert count(Rsvp) == 0 and count(AttendanceRecord) == 0  # not safety: skipped
    assert "<Message>" not in reply(sms(client, "HELP"))
    _send_checkin(member)
    for _ in range(8):
        sms(client, "0")
    checkin = Checkin.query.one()
    assert checkin.answers == []  # items 1-8 are spared over the limit
    checkin.answers, checkin.position = [0] * 8, 8  # as if answered before the flood
    db.session.commit()
    text = reply(sms(client, "2"))
    assert "988" in text and Alert.query.one().detail["source"] == "phq9_item9"
    assert Checkin.query.one().answers == [0] * 8 + [2]
    sms(client, "STOP")
    assert Member.query.one().opted_out_at == NOW
    assert "<Message>" not in reply(sms(client, "START"))
    assert Member.query.one().opted_out_at is None


def test_status_callbacks_are_not_limited_per_our_number(client, limits, member):
    def status(i):
        params = {"MessageSid": f"SMs{i}", "MessageStatus": "delivered"}
        sig = compute_twilio_signature(TOKEN, "http://localhost/twilio/status", params)
        return client.post("/twilio/status", data=params, headers={"X-Twilio-Signature": sig}).status_code

    assert {status(i) for i in range(50)} == {204}


def test_a_failure_after_the_crisis_check_keeps_the_message_and_the_alert(
    client, limits, member, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the check-in code")

    monkeypatch.setattr("ipt_groups.checkins.inbox.latest_for", broken)
    r = sms(client, "see you tuesday")
    assert r.status_code == 200 and "<Message>" not in reply(r)
    stored = InboundMessage.query.one()
    assert stored.body == "see you tuesday" and "handling failed" in stored.handled["error"]
    monkeypatch.setattr("ipt_groups.checkins.inbox._crisis", _crisis_then_break(monkeypatch))
    assert "988" in reply(sms(client, CRISIS))
    assert count(InboundMessage) == 2 and count(Alert) == 1


def _crisis_then_break(monkeypatch):
    """The real crisis check, with everything after it broken."""
    from ipt_groups.checkins import inbox

    real = inbox._crisis

    def crisis(*args):
        found = real(*args)
        monkeypatch.setattr("ipt_groups.checkins.inbox._from_member", _raise)
        return found

    return crisis


def _raise(*args, **kwargs):
    raise RuntimeError("a bug after the crisis check")


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.fixture
def worker(app):
    """Other web workers on the same database; the limiter is one object, restored after."""
    made = []

    def make(**config):
        shared = {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "FIXED_NOW": NOW}
        made.append(create_app(TestingConfig, **shared, **config))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            _db.engine.dispose()  # close its connections now, not whenever they are collected
    limiter.init_app(app)  # the session's app gets its memory storage back
    limiter._storage_dead = False  # Flask-Limiter keeps this across init_app
    limiter.reset()


def test_a_limiter_store_that_is_down_fails_open(db, member, auth, worker, caplog):
    down = worker(
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:1",
        TWILIO_AUTH_TOKEN=TOKEN,
        ONCALL_PHONE="+12025550999",
        WEBHOOK_RATE_LIMIT="2 per minute",
    )
    client = down.test_client()
    with caplog.at_level(logging.WARNING):
        text = reply(sms(client, CRISIS))
        answered = ["Thanks" in reply(sms(client, "see you tuesday")) for _ in range(3)]
    assert "988" in text and count(Alert) == 1 and count(InboundMessage) == 4
    assert answered == [True] * 3  # over "2 per minute": nothing could be counted, nothing is limited
    assert "rate-limit store unavailable (ConnectionError); inbound SMS not rate limited" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert client.get("/api/v1/members", headers=auth).status_code == 200  # counted in memory
    assert "falling back to in-memory storage" in caplog.text
    answered = ["<Message>" in reply(sms(client, "hi")) for _ in range(3)]
    assert answered == [True, True, False]  # inbound SMS now share the worker's memory counts


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379 (CI runs one; start redis-server)")
def test_redis_storage_shares_counts_between_workers(db, worker):
    import redis

    uri = "redis://127.0.0.1:6379/15"
    redis.Redis.from_url(uri).flushdb()
    try:
        one, two = worker(RATELIMIT_STORAGE_URI=uri), worker(RATELIMIT_STORAGE_URI=uri)
        for worker in (one, two):
            worker.config["API_RATE_LIMIT"] = "2 per minute"
        clients = [one.test_client(), two.test_client(), one.test_client()]
        codes = [c.get("/api/v1/members").status_code for c in clients]
        assert codes == [401, 401, 429]  # two workers, one count: the third request is over the limit
        assert redis.Redis.from_url(uri).dbsize() > 0
    finally:
        redis.Redis.from_url(uri).flushdb()


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379 (CI runs one; start redis-server)")
def test_redis_counts_a_senders_texts_between_workers(db, member, worker):
    import redis

    uri = "redis://127.0.0.1:6379/15"
    redis.Redis.from_url(uri).flushdb()
    try:
        config = {
            "RATELIMIT_STORAGE_URI": uri,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "WEBHOOK_RATE_LIMIT": "2 per minute",
        }
        one, two = worker(**config), worker(**config)
        answered = ["<Message>" in reply(sms(w.test_client(), "hi")) for w in (one, two, one)]
        assert answered == [True, True, False]
    finally:
        redis.Redis.from_url(uri).flushdb()
