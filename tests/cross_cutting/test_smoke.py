def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json == {
        "status": "ok",
        "safety": {"undelivered": 0, "retrying": 0, "nobody_told": 0},
        "webhooks": {"signed_for_another_url": 0},
    }
