"""A facilitator never sees another group's members, scores, check-ins, alerts, sessions, meetings,
sheets or messages: every GET route, asked by the leader of another group, with the bodies checked,
not just the status codes (lists come back without the other group's rows)."""

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from ipt_groups.cycles.operations import start_cycle
from ipt_groups.extensions import db as _db
from ipt_groups.groups.operations import create_group, enrol_member, remove_member
from ipt_groups.models import Alert, Checkin, Group, GroupSession, IndividualMeeting, Member, Message
from tests.conftest import NOW
from tests.cross_cutting.test_auth import ROUTES, Ids

GETS = [path for method, path, _who in ROUTES if method == "GET"]
# Filters each list route takes, filled with the other group's ids.
FILTERS = {
    "/api/v1/groups": ["facilitator_id"],
    "/api/v1/alerts": ["group_id", "member_id"],
    "/api/v1/checkins": ["group_id", "member_id", "session_id"],
    "/api/v1/messages": ["group_id", "member_id", "session_id"],
    "/api/v1/members": [],
    "/api/v1/facilitators": [],
    "/api/v1/reports/attendance": ["group_id"],
}


def _programme(db, facilitator, members, name: str) -> dict:
    """A group led by `facilitator` with `members`, its cycle, an alert and a scored check-in."""
    data = {"name": name, "problem_area": "grief", "language": "en", "day": "tue", "start_time": "18:00"}
    group = create_group(data | {"facilitator_id": facilitator.id}, "test", NOW)
    db.session.flush()
    for m in members:
        enrol_member(group, m, {}, "test", NOW)
    start_cycle(group, {"first_date": date(2026, 12, 1)}, "test", NOW)
    session_id = db.session.scalar(select(GroupSession.id).filter_by(group_id=group.id, number=1))
    meeting_id = db.session.scalar(select(IndividualMeeting.id).filter_by(group_id=group.id).limit(1))
    alert = Alert(kind="safety", member_id=members[0].id, group_id=group.id, created_at=NOW)
    checkin = Checkin(
        member_id=members[0].id,
        group_id=group.id,
        session_id=session_id,
        occasion="weekly",
        instrument="phq9",
        answers=[1] * 9,
        status="complete",
        started_at=NOW,
        expires_at=NOW + timedelta(hours=48),
        completed_at=NOW,
        score=9,
        band="mild",
        complete=True,
    )
    db.session.add_all([alert, checkin])
    db.session.commit()
    return {
        "facilitator_id": facilitator.id,
        "group_id": group.id,
        "member_id": members[0].id,
        "session_id": session_id,
        "meeting_id": meeting_id,
        "alert_id": alert.id,
        "names": [name, f"Group {group.id} ", *(m.name for m in members), *(m.phone for m in members)],
    }


@pytest.fixture
def two_groups(db, make_facilitator, make_member):
    """Group A (facilitator 0, members 'Alice ...') and group B (facilitator 1, 'Bob ...')."""
    a = _programme(db, make_facilitator(0), [make_member(1, name="Alice Aardvark")], "Group Alpha")
    b = _programme(db, make_facilitator(1), [make_member(2, name="Bob Bobcat")], "Group Beta")
    assert db.session.scalar(select(Message.id).filter_by(group_id=a["group_id"]).limit(1))
    return a, b


def _text(response) -> str:
    return response.get_data(as_text=True) if response.mimetype != "application/pdf" else ""


def _leaks(response, other: dict) -> list[str]:
    text = _text(response)
    return [name for name in other["names"] if name in text]


def _list_ids(response, key: str) -> set:
    body = response.json if response.mimetype == "application/json" else None
    rows = body if isinstance(body, list) else (body or {}).get("rows", [])
    return {row.get(key) for row in rows if isinstance(row, dict)}


@pytest.mark.parametrize("path", GETS)
def test_the_leader_of_another_group_sees_none_of_it(client, two_groups, facilitator_auth, path):
    a, b = two_groups
    outsider = facilitator_auth(b["facilitator_id"])
    r = client.get(path.format_map(Ids(a)), headers=outsider)
    assert not _leaks(r, a), (path, r.status_code, _text(r)[:300])
    if "{" in path:
        assert r.status_code == 403, (path, r.status_code)
        return
    assert r.status_code in (200, 403), (path, r.status_code)
    for key in ("group_id", "member_id", "id"):
        assert not _list_ids(r, key) & {a.get(key), a["group_id"] if key == "id" else None} - {None}
    for key in FILTERS.get(path, []):
        filtered = client.get(path, query_string={key: a[key]}, headers=outsider)
        assert filtered.status_code in (200, 403) and not _leaks(filtered, a), (path, key)
        assert filtered.status_code == 403 or filtered.json in ([], {"rows": []}), (path, key, filtered.json)


@pytest.mark.parametrize("path", GETS)
def test_their_own_group_is_visible(client, two_groups, facilitator_auth, path):
    """The other side of the coin, so the test above cannot pass by hiding everything."""
    _a, b = two_groups
    r = client.get(path.format_map(Ids(b)), headers=facilitator_auth(b["facilitator_id"]))
    if r.status_code == 403:
        assert "coordinator token" in r.json["message"], path
        return
    assert r.status_code == 200, (path, r.status_code)
    expected = {
        "/api/v1/groups": "Group Beta",
        "/api/v1/groups/{group_id}": "Bob Bobcat",
        "/api/v1/groups/{group_id}/attendance-sheet": "Bob Bobcat",
        "/api/v1/members/{member_id}/scores": '"phq9_latest":9',
        "/api/v1/alerts": f'"group_id":{b["group_id"]}',
        "/api/v1/checkins": f'"member_id":{b["member_id"]}',
        "/api/v1/groups/{group_id}/sessions": f'"group_id":{b["group_id"]}',
        "/api/v1/groups/{group_id}/meetings": f'"member_id":{b["member_id"]}',
        "/api/v1/sessions/{session_id}": f'"id":{b["session_id"]}',
        "/api/v1/facilitators/{facilitator_id}/calendar.ics": f"Group {b['group_id']} session 1",
    }.get(path)
    if expected:
        assert expected in json.dumps(r.json, separators=(",", ":")) if r.is_json else expected in _text(r)


def test_every_get_route_is_covered():
    assert {
        "/api/v1/groups/{group_id}/attendance-sheet",
        "/api/v1/members/{member_id}/scores",
        "/api/v1/checkins",
        "/api/v1/alerts",
        "/api/v1/groups/{group_id}/sessions",
        "/api/v1/groups/{group_id}/meetings",
        "/api/v1/facilitators/{facilitator_id}/calendar.ics",
    } <= set(GETS)


def test_a_member_who_moved_groups_shows_the_new_leader_nothing_from_the_old_group(
    client, two_groups, facilitator_auth
):
    """Alice leaves group A and joins group B: B's leader sees her from now on, not A's check-ins nor
    A's closed alerts; an alert still open is B's leader's to act on too (issue 11's review: safety
    favours the current facilitator seeing it), so it shows, with her phone."""
    a, b = two_groups
    closed = Alert(kind="safety", member_id=a["member_id"], group_id=a["group_id"], created_at=NOW)
    closed.acknowledged_at, closed.acknowledged_by = NOW, "test"
    _db.session.add(closed)
    remove_member(a["group_id"], a["member_id"], "test", NOW)
    group_b, alice = _db.session.get(Group, b["group_id"]), _db.session.get(Member, a["member_id"])
    enrol_member(group_b, alice, {"override_late_join": True}, "test", NOW)
    _db.session.commit()
    leader_b = facilitator_auth(b["facilitator_id"])
    checkins = client.get("/api/v1/checkins", query_string={"member_id": a["member_id"]}, headers=leader_b)
    assert checkins.status_code == 200 and checkins.json == []
    query = {"member_id": a["member_id"], "include_acknowledged": "true"}
    alerts = client.get("/api/v1/alerts", query_string=query, headers=leader_b)
    still_open = Alert.query.filter_by(member_id=a["member_id"], acknowledged_at=None).one()
    assert alerts.status_code == 200 and [(x["id"], x["phone"]) for x in alerts.json] == [
        (still_open.id, alice.phone)
    ]
    assert client.get(f"/api/v1/alerts/{closed.id}", headers=leader_b).status_code == 403
    scores = client.get(f"/api/v1/members/{a['member_id']}/scores", headers=leader_b)
    assert scores.status_code == 200 and scores.json["points"] == [], scores.json
