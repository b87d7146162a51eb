"""Reads of members' health data (scores, check-ins, alerts, attendance sheets) are in the access log,
which coordinators query by member, actor, subject and time; tokens expire and show their last use."""

from datetime import timedelta

from sqlalchemy import event

from ipt_groups.auth import create_token
from ipt_groups.extensions import db as _db
from ipt_groups.models import AccessEntry, Alert, ApiToken, Checkin
from tests.conftest import NOW


def _entries():
    _db.session.expire_all()
    return [(e.what, e.member_id, e.via) for e in AccessEntry.query.order_by(AccessEntry.id)]


def test_reads_of_scores_checkins_alerts_and_sheets_are_logged(client, auth, member, make_member):
    group_id = member.current_enrolment.group_id
    checkin = {"instrument": "phq2", "occasion": "session", "answers": [1, 1], "status": "complete"}
    expires = NOW + timedelta(days=1)
    _db.session.add(
        Checkin(member_id=member.id, group_id=group_id, started_at=NOW, expires_at=expires, **checkin)
    )
    _db.session.add(Alert(kind="outreach", member_id=member.id, group_id=group_id, created_at=NOW))
    _db.session.commit()
    for path in (
        f"/api/v1/members/{member.id}/scores",
        f"/api/v1/checkins?member_id={member.id}",
        "/api/v1/alerts",
        f"/api/v1/groups/{group_id}/attendance-sheet?format=csv",
    ):
        assert client.get(path, headers=auth).status_code == 200, path
    assert _entries() == [
        ("scores", member.id, f"GET /api/v1/members/{member.id}/scores"),
        ("checkins", member.id, "GET /api/v1/checkins"),  # the path, never the query string
        ("member_phone", member.id, "GET /api/v1/alerts"),  # the phone to call on it (issue 11)
        ("alert", member.id, "GET /api/v1/alerts"),
        ("attendance_sheet", member.id, f"GET /api/v1/groups/{group_id}/attendance-sheet"),
    ]
    assert all(e.actor.startswith("coordinator:test coordinator#token") for e in AccessEntry.query)


def test_a_sheet_read_logs_every_member_on_it(client, auth, started_group, make_member):
    members = [make_member(i) for i in range(3)]
    group = started_group(members)
    client.get(f"/api/v1/groups/{group.id}/attendance-sheet", headers=auth)
    assert sorted(m for what, m, _ in _entries() if what == "attendance_sheet") == sorted(
        m.id for m in members
    )


def test_coordinators_query_the_log_by_member_actor_subject_and_time(client, auth, facilitator_auth, member):
    group = member.current_enrolment.group
    lead = facilitator_auth(group.facilitator_id)
    client.get(f"/api/v1/members/{member.id}/scores", headers=lead)
    client.get(f"/api/v1/groups/{group.id}/attendance-sheet", headers=auth)
    everything = client.get("/api/v1/access-log", headers=auth)
    assert everything.status_code == 200 and [e["what"] for e in everything.json] == [
        "attendance_sheet",
        "scores",
    ]
    scores = client.get(f"/api/v1/access-log?member_id={member.id}&what=scores", headers=auth).json
    assert len(scores) == 1 and scores[0]["actor"].startswith("facilitator:")
    actor = scores[0]["actor"]
    assert [
        e["what"] for e in client.get("/api/v1/access-log", query_string={"actor": actor}, headers=auth).json
    ] == ["scores"]
    later = (NOW + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    assert client.get(f"/api/v1/access-log?since={later}", headers=auth).json == []
    assert len(client.get(f"/api/v1/access-log?until={later}", headers=auth).json) == 2
    bad = client.get("/api/v1/access-log?what=diaries&member_id=x", headers=auth)
    assert bad.status_code == 422 and set(bad.json["errors"]["query"]) == {"what", "member_id"}
    assert client.get("/api/v1/access-log", headers=lead).status_code == 403


# --- tokens: expiry and last use ------------------------------------------------------------------


def _token(db, **kwargs):
    row, plaintext = create_token("coordinator", "Ana", None, "test", **kwargs)
    db.session.commit()
    return row.id, {"Authorization": f"Bearer {plaintext}"}


def test_an_expired_token_is_refused(app, client, db, monkeypatch):
    _id, headers = _token(db, expires_at=NOW + timedelta(hours=1))
    assert client.get("/api/v1/members", headers=headers).status_code == 200
    monkeypatch.setitem(app.config, "FIXED_NOW", NOW + timedelta(hours=1))
    assert client.get("/api/v1/members", headers=headers).status_code == 401


def test_last_use_is_written_at_most_once_a_minute(app, client, db, monkeypatch):
    token_id, headers = _token(db)

    def used_at():
        db.session.expire_all()
        return db.session.get(ApiToken, token_id).last_used_at

    writes = []

    def count_writes(_conn, _cursor, statement, *_args):
        if statement.startswith("UPDATE api_tokens"):
            writes.append(statement)

    assert used_at() is None
    client.get("/api/v1/members", headers=headers)
    assert used_at() == NOW
    monkeypatch.setitem(app.config, "FIXED_NOW", NOW + timedelta(seconds=59))
    event.listen(db.engine, "before_cursor_execute", count_writes)
    try:
        for _ in range(3):
            client.get("/api/v1/members", headers=headers)
    finally:
        event.remove(db.engine, "before_cursor_execute", count_writes)
    assert used_at() == NOW and writes == []  # not a statement, let alone a write, on every request
    monkeypatch.setitem(app.config, "FIXED_NOW", NOW + timedelta(seconds=61))
    client.post("/api/v1/coordinators", json={"name": "Cora", "timezone": "UTC"}, headers=headers)
    assert used_at() == NOW + timedelta(seconds=61)


def test_list_tokens_shows_expiry_and_last_use(runner, client, db):
    _id, headers = _token(db, expires_at=NOW + timedelta(days=30))
    client.get("/api/v1/members", headers=headers)
    result = runner.invoke(
        args=["ipt", "create-token", "--role", "coordinator", "--name", "Bo", "--expires-in-days", "7"]
    )
    assert result.exit_code == 0
    lines = runner.invoke(args=["ipt", "list-tokens"]).output.strip().splitlines()
    assert lines[0].split("\t")[3:] == ["active", "expires 2026-12-25 12:00", "last used 2026-11-25 12:00"]
    assert lines[1].split("\t")[4].startswith("expires ") and lines[1].split("\t")[5] == "never used"
