"""Who may call what: one table of every API route, tried with no token, bad tokens, revoked tokens
and each role. Add a row here for each new route (a test fails until you do)."""

import re
from datetime import date

import pytest
from sqlalchemy import select

from ipt_groups.auth import create_token, revoke_token
from ipt_groups.cycles.operations import start_cycle
from ipt_groups.groups.operations import create_group, enrol_member
from ipt_groups.models import (
    Alert,
    AuditEntry,
    Coordinator,
    Enrolment,
    Facilitator,
    Group,
    GroupSession,
    IndividualMeeting,
    Member,
    Message,
)
from tests.conftest import NOW, count

COORDINATOR = "coordinator"  # coordinators only: a facilitator's token gets 403
OWN = "own"  # a facilitator may call it for their own groups
ANYONE = "anyone"  # any valid token

# method, path ({..._id} filled in from the `ids` fixture), who may call it
ROUTES = [
    ("GET", "/api/v1/members", COORDINATOR),
    ("POST", "/api/v1/members", COORDINATOR),
    ("GET", "/api/v1/members/{member_id}", COORDINATOR),
    ("PATCH", "/api/v1/members/{member_id}", COORDINATOR),
    ("DELETE", "/api/v1/members/{member_id}", COORDINATOR),
    ("POST", "/api/v1/members/import", COORDINATOR),
    ("GET", "/api/v1/coordinators", COORDINATOR),
    ("POST", "/api/v1/coordinators", COORDINATOR),
    ("GET", "/api/v1/coordinators/{coordinator_id}", COORDINATOR),
    ("PATCH", "/api/v1/coordinators/{coordinator_id}", COORDINATOR),
    ("DELETE", "/api/v1/coordinators/{coordinator_id}", COORDINATOR),
    ("GET", "/api/v1/facilitators", COORDINATOR),
    ("POST", "/api/v1/facilitators", COORDINATOR),
    ("GET", "/api/v1/facilitators/{facilitator_id}", COORDINATOR),
    ("PATCH", "/api/v1/facilitators/{facilitator_id}", COORDINATOR),
    ("DELETE", "/api/v1/facilitators/{facilitator_id}", COORDINATOR),
    ("GET", "/api/v1/groups", OWN),
    ("POST", "/api/v1/groups", COORDINATOR),
    ("GET", "/api/v1/groups/{group_id}", OWN),
    ("PATCH", "/api/v1/groups/{group_id}", COORDINATOR),
    ("POST", "/api/v1/groups/{group_id}/members/{member_id}", COORDINATOR),
    ("DELETE", "/api/v1/groups/{group_id}/members/{member_id}", COORDINATOR),
    ("POST", "/api/v1/groups/{group_id}/cycle", COORDINATOR),
    ("GET", "/api/v1/groups/{group_id}/sessions", OWN),
    ("GET", "/api/v1/sessions/{session_id}", OWN),
    ("PATCH", "/api/v1/sessions/{session_id}", COORDINATOR),
    ("GET", "/api/v1/cycle-templates", ANYONE),
    ("POST", "/api/v1/cycle-templates", COORDINATOR),
    ("GET", "/api/v1/messages", COORDINATOR),
    ("GET", "/api/v1/alerts", OWN),
    ("GET", "/api/v1/alerts/{alert_id}", OWN),
    ("POST", "/api/v1/alerts/{alert_id}/ack", OWN),
    ("GET", "/api/v1/checkins", OWN),
    ("GET", "/api/v1/members/{member_id}/scores", OWN),
    ("PUT", "/api/v1/sessions/{session_id}/attendance", OWN),
    ("GET", "/api/v1/sessions/{session_id}/rsvps", OWN),
    ("PUT", "/api/v1/meetings/{meeting_id}/attendance", OWN),
    ("GET", "/api/v1/groups/{group_id}/meetings", OWN),
    ("PATCH", "/api/v1/meetings/{meeting_id}", OWN),
    ("GET", "/api/v1/groups/{group_id}/attendance-sheet", OWN),
    ("GET", "/api/v1/reports/attendance", COORDINATOR),
    ("GET", "/api/v1/reports/outcomes", COORDINATOR),
    ("GET", "/api/v1/facilitators/{facilitator_id}/calendar-link", OWN),
    ("DELETE", "/api/v1/facilitators/{facilitator_id}/calendar-link", OWN),
    ("GET", "/api/v1/facilitators/{facilitator_id}/calendar.ics", OWN),
    ("GET", "/api/v1/settings/message-texts", COORDINATOR),
    ("PUT", "/api/v1/settings/message-texts", COORDINATOR),
    ("GET", "/api/v1/settings/crisis-phrases", COORDINATOR),
    ("PUT", "/api/v1/settings/crisis-phrases", COORDINATOR),
    ("POST", "/api/v1/group-proposals", COORDINATOR),
    ("GET", "/api/v1/group-proposals/{proposal_id}", COORDINATOR),
    ("PATCH", "/api/v1/group-proposals/{proposal_id}", COORDINATOR),
    ("POST", "/api/v1/group-proposals/{proposal_id}/commit", COORDINATOR),
    ("GET", "/api/v1/access-log", COORDINATOR),
    ("GET", "/api/v1/settings/intake", COORDINATOR),
    ("PUT", "/api/v1/settings/intake", COORDINATOR),
    ("GET", "/api/v1/groups/{group_id}/seats", COORDINATOR),
    ("POST", "/api/v1/groups/{group_id}/invitations", COORDINATOR),
    ("GET", "/api/v1/invitations", COORDINATOR),
    ("POST", "/api/v1/invitations/{invitation_id}/answer", COORDINATOR),
    ("GET", "/api/v1/members/{member_id}/screenings", COORDINATOR),
    ("POST", "/api/v1/members/{member_id}/screenings", COORDINATOR),
]
# Bodies that pass validation, where a route checks the body before the caller's group ({} otherwise).
BODIES = {
    "/api/v1/meetings/{meeting_id}": {"status": "cancelled"},
    "/api/v1/sessions/{session_id}/attendance": {
        "records": [{"member_id": "{member_id}", "status": "present"}]
    },
    "/api/v1/meetings/{meeting_id}/attendance": {
        "records": [{"member_id": "{member_id}", "status": "present"}]
    },
}
PUBLIC = {"/healthz", "/api/openapi.json", "/api/docs"}
# Without the monitoring token, /readyz says only its status: here, with no scheduler, down.
STATUS_ONLY = {"/readyz": (503, {"status": "scheduler_down"})}
ROUTE_IDS = [f"{method} {path}" for method, path, _who in ROUTES]
WORLD = (Member, Facilitator, Coordinator, Group, Enrolment, GroupSession, Message, AuditEntry)


@pytest.fixture
def ids(db, make_facilitator, make_member):
    """A facilitator leading a group with one member, a cycle and an alert, and a coordinator; their ids."""
    facilitator = make_facilitator(0)
    data = {"name": "Tuesday grief", "problem_area": "grief", "language": "en", "day": "tue"}
    data |= {"start_time": "18:00", "session_minutes": 90, "max_size": 10, "facilitator_id": facilitator.id}
    group = create_group(data, "test", NOW)
    db.session.flush()
    member = make_member(0)
    enrol_member(group, member, {}, "test", NOW)
    start_cycle(group, {"first_date": date(2026, 12, 1)}, "test", NOW)
    alert = Alert(kind="outreach", member_id=member.id, group_id=group.id, created_at=NOW)
    coordinator = Coordinator(name="Cora", phone="+12025550777", timezone="America/Chicago")
    db.session.add_all([alert, coordinator])
    db.session.commit()
    session_id = db.session.scalar(select(GroupSession.id).filter_by(group_id=group.id, number=1))
    meeting_id = db.session.scalar(select(IndividualMeeting.id).filter_by(group_id=group.id).limit(1))
    ids = {"facilitator_id": facilitator.id, "group_id": group.id, "member_id": member.id}
    ids |= {"coordinator_id": coordinator.id}
    return ids | {"session_id": session_id, "meeting_id": meeting_id, "alert_id": alert.id}


def call(client, method: str, path: str, ids: dict, headers: dict):
    """Send the route a JSON body (where it takes one) with the given headers."""
    body = {}
    if method in ("POST", "PUT", "PATCH") and not path.endswith("/import"):
        body = {"json": _filled(BODIES.get(path, {}), ids)}
    return client.open(path.format_map(Ids(ids)), method=method, headers=headers, **body)


class Ids(dict):
    """The fixture's ids; any other id is one that does not exist (coordinator-only routes need none)."""

    def __missing__(self, key):
        return 999


def _filled(template, ids: dict):
    if isinstance(template, dict):
        return {k: _filled(v, ids) for k, v in template.items()}
    if isinstance(template, list):
        return [_filled(v, ids) for v in template]
    return int(template.format(**ids)) if isinstance(template, str) and template.startswith("{") else template


def snapshot_counts() -> list[int]:
    return [count(model) for model in WORLD]


def test_every_api_route_is_in_the_table(app):
    table = {(method, path) for method, path, _who in ROUTES}
    served = {
        (method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert served == table


@pytest.mark.parametrize(("method", "path", "who"), ROUTES, ids=ROUTE_IDS)
def test_no_token_is_401_and_changes_nothing(client, ids, method, path, who):
    before = snapshot_counts()
    r = call(client, method, path, ids, {})
    assert r.status_code == 401 and "Bearer" in r.json["message"]
    assert snapshot_counts() == before


@pytest.mark.parametrize("header", ["Bearer ipt_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer ", "ipt_x"])
@pytest.mark.parametrize(("method", "path", "who"), ROUTES, ids=ROUTE_IDS)
def test_a_bad_token_is_401(client, ids, method, path, who, header):
    r = call(client, method, path, ids, {"Authorization": header})
    assert r.status_code == 401


@pytest.mark.parametrize(("method", "path", "who"), ROUTES, ids=ROUTE_IDS)
def test_a_revoked_token_is_401(client, db, ids, method, path, who):
    row, token = create_token("coordinator", "leaver", None, "test")
    revoke_token(row.id, "test", NOW)
    db.session.commit()
    before = snapshot_counts()
    assert call(client, method, path, ids, {"Authorization": f"Bearer {token}"}).status_code == 401
    assert snapshot_counts() == before


@pytest.mark.parametrize(("method", "path", "who"), ROUTES, ids=ROUTE_IDS)
def test_a_facilitator_token_is_403_where_only_coordinators_may(
    client, ids, facilitator_auth, method, path, who
):
    header = facilitator_auth(ids["facilitator_id"])
    before = snapshot_counts()
    r = call(client, method, path, ids, header)
    if who != COORDINATOR:
        assert r.status_code not in (401, 403), r.json
        assert method != "GET" or r.status_code == 200, r.json
    else:
        assert "coordinator token" in r.json["message"]
        assert snapshot_counts() == before


@pytest.mark.parametrize(("method", "path", "who"), ROUTES, ids=ROUTE_IDS)
def test_a_coordinator_token_gets_past_the_guard(client, ids, auth, method, path, who):
    assert call(client, method, path, ids, auth).status_code not in (401, 403)


@pytest.mark.parametrize(("method", "path", "who"), [r for r in ROUTES if r[2] == OWN], ids=lambda v: v)
def test_another_facilitators_group_is_403(
    client, ids, make_facilitator, facilitator_auth, method, path, who
):
    outsider = facilitator_auth(make_facilitator(1).id)
    r = call(client, method, path, ids, outsider)
    if "{" in path:
        assert r.status_code == 403 and "own groups" in r.json["message"]
    else:
        assert r.status_code == 200 and r.json == []


def test_the_token_is_checked_before_the_body(client, ids, facilitator_auth):
    form = {"data": "name=x", "content_type": "application/x-www-form-urlencoded"}
    assert client.post("/api/v1/members", **form).status_code == 401
    assert (
        client.post("/api/v1/members", headers=facilitator_auth(ids["facilitator_id"]), **form).status_code
        == 403
    )


def test_scheme_is_case_insensitive_and_spaces_are_forgiven(client, coordinator_token):
    r = client.get("/api/v1/members", headers={"Authorization": f"bearer  {coordinator_token} "})
    assert r.status_code == 200


def test_only_health_and_docs_answer_without_a_token(app, client, ids):
    """The API wants a token (401); anything else not public refuses too (webhooks check signatures).
    An automatic OPTIONS answer, which lists methods and holds no data, is allowed. The pages (issue
    15) send a browser without a session to the sign-in page, refuse a form without its CSRF token
    (400), and serve their sign-in pages and assets to anyone: tests/web/test_page_auth.py walks them."""
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(Ids(ids)[m.group(1)]), rule.rule)
        for method in sorted(rule.methods):
            r = client.open(path, method=method)
            if rule.rule in PUBLIC:
                assert r.status_code == 200, (method, path)
            elif rule.rule in STATUS_ONLY and method in ("GET", "HEAD"):
                assert r.status_code == STATUS_ONLY[rule.rule][0], (method, path)
                assert method == "HEAD" or r.json == STATUS_ONLY[rule.rule][1]
            elif method == "OPTIONS" and r.status_code == 200:
                assert r.data == b"", (method, path)
            elif rule.rule.startswith("/api/v1/"):
                assert r.status_code == 401, (method, path, r.status_code)
            elif rule.endpoint.startswith("web."):
                assert _page_refuses_or_is_public(rule.endpoint, method, r), (method, path, r.status_code)
            elif rule.endpoint != "static":
                assert r.status_code in (401, 403), (method, path, r.status_code)


PUBLIC_PAGES = {"web.signin", "web.signin_code", "web.signin_link", "web.static"}


def _page_refuses_or_is_public(endpoint: str, method: str, r) -> bool:
    if method == "POST":
        return r.status_code == 400  # no CSRF token: refused before anything else
    if endpoint in PUBLIC_PAGES:
        return r.status_code in (200, 303, 404)  # the code page sends you to ask for one; no such asset
    return r.status_code == 303 and "/app/signin" in r.headers["Location"]
