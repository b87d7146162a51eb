"""Rate limits: per token on the API, per sending number on the webhook."""

import pytest

from ipt_groups.extensions import limiter
from ipt_groups.messaging.twilio import compute_twilio_signature


@pytest.fixture
def limits(app, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    monkeypatch.setitem(app.config, "WEBHOOK_RATE_LIMIT", "2 per minute")
    monkeypatch.setitem(app.config, "TWILIO_AUTH_TOKEN", "tok")
    limiter.reset()
    yield
    limiter.reset()


def test_api_is_limited_per_token(client, auth, limits, facilitator_auth, make_facilitator):
    codes = [client.get("/api/v1/members", headers=auth).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    other = facilitator_auth(make_facilitator(0).id)
    assert client.get("/api/v1/groups", headers=other).status_code == 200  # another token, its own count
    assert client.get("/healthz").status_code == 200


def test_webhook_is_limited_per_sender(client, db, limits):
    def post(sender, sid):
        params = {"MessageSid": sid, "From": sender, "Body": "hi"}
        sig = compute_twilio_signature("tok", "http://localhost/twilio/sms", params)
        return client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": sig}).status_code

    assert [post("+13125550001", f"SM{i}") for i in range(3)] == [200, 200, 429]
    assert post("+13125550002", "SMx") == 200


def _redis_up() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379 (CI runs one; start redis-server)")
def test_redis_storage_shares_counts_between_workers(app, db):
    import redis

    from config import TestingConfig
    from ipt_groups import create_app

    uri = "redis://127.0.0.1:6379/15"
    redis.Redis.from_url(uri).flushdb()
    shared = {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "RATELIMIT_STORAGE_URI": uri}
    try:
        one, two = create_app(TestingConfig, **shared), create_app(TestingConfig, **shared)
        for worker in (one, two):
            worker.config["API_RATE_LIMIT"] = "2 per minute"
        clients = [one.test_client(), two.test_client(), one.test_client()]
        codes = [c.get("/api/v1/members").status_code for c in clients]
        assert codes == [401, 401, 429]  # two workers, one count: the third request is over the limit
        assert redis.Redis.from_url(uri).dbsize() > 0
    finally:
        redis.Redis.from_url(uri).flushdb()
        limiter.init_app(app)  # the session's app gets its memory storage back
