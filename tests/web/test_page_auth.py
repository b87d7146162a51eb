"""Who may open which page: one table of every route under /app/, tried signed out, as the group's
facilitator, as another group's facilitator and as a coordinator. Add a row for each new page (a test
fails until you do)."""

from __future__ import annotations

import re

import pytest

from ipt_groups.models import AttendanceRecord, AuditEntry, GroupProposal, Member
from tests.conftest import count
from tests.web.conftest import csrf_token

PUBLIC = "public"  # anyone, signed in or not
SIGNED_IN = "signed in"  # any signed-in person (a facilitator sees only their own groups' rows)
OWN = "own"  # the group's facilitator and coordinators; another facilitator gets 403
COORDINATOR = "coordinator"  # coordinators only; a facilitator gets 403

# method, path (ids from the `ids` fixture), who, form data for POSTs that would otherwise be refused
PAGES = [
    ("GET", "/app/signin", PUBLIC, None),
    ("POST", "/app/signin", PUBLIC, {"phone": "+13125559999"}),
    ("GET", "/app/signin/code", PUBLIC, None),
    ("POST", "/app/signin/code", PUBLIC, {"code": "000000"}),
    ("GET", "/app/signin/link/{token}", PUBLIC, None),
    ("POST", "/app/signin/link/{token}", PUBLIC, None),
    ("GET", "/app/static/{filename}", PUBLIC, None),
    ("POST", "/app/signout", SIGNED_IN, None),
    ("GET", "/app/", SIGNED_IN, None),
    ("GET", "/app/alerts", SIGNED_IN, None),
    ("GET", "/app/outreach", SIGNED_IN, None),
    ("GET", "/app/calendar", SIGNED_IN, None),
    ("POST", "/app/alerts/{alert_id}/ack", OWN, None),
    ("GET", "/app/sessions/{session_id}", OWN, None),
    ("POST", "/app/sessions/{session_id}/attendance", OWN, {"member_id": "{member_id}", "status": "present"}),
    ("GET", "/app/groups/{group_id}", OWN, None),
    ("GET", "/app/groups/{group_id}/sheet.csv", OWN, None),
    ("GET", "/app/groups/{group_id}/sheet.pdf", OWN, None),
    (
        "POST",
        "/app/sessions/{session_id}/move",
        COORDINATOR,
        {"local_date": "2026-12-02", "local_start": "18:00"},
    ),
    ("POST", "/app/sessions/{session_id}/cancel", COORDINATOR, {}),
    ("GET", "/app/console", COORDINATOR, None),
    ("GET", "/app/console/waitlist", COORDINATOR, None),
    ("GET", "/app/console/import", COORDINATOR, None),
    ("POST", "/app/console/import", COORDINATOR, {"text": "name,phone\n"}),
    ("GET", "/app/console/groups", COORDINATOR, None),
    ("GET", "/app/console/groups/{group_id}/seats", COORDINATOR, None),
    ("GET", "/app/console/outcomes", COORDINATOR, None),
    ("GET", "/app/console/outcomes.csv", COORDINATOR, None),
    ("GET", "/app/console/proposals", COORDINATOR, None),
    (
        "POST",
        "/app/console/proposals",
        COORDINATOR,
        {"first_session_date": "2027-03-02", "time_limit_s": "1"},
    ),
    ("GET", "/app/console/proposals/{proposal_id}", COORDINATOR, None),
    (
        "POST",
        "/app/console/proposals/{proposal_id}/move",
        COORDINATOR,
        {"member_id": "{member_id}", "to_group": ""},
    ),
    ("POST", "/app/console/proposals/{proposal_id}/commit", COORDINATOR, None),
]
IDS = [f"{m} {p}" for m, p, _w, _d in PAGES]
# Moving and cancelling need a session that has not started (session 2 has: it takes attendance).
LATER = {"/app/sessions/{session_id}/move", "/app/sessions/{session_id}/cancel"}
WORLD = (AttendanceRecord, AuditEntry, GroupProposal, Member)


@pytest.fixture
def ids(db, programme):
    """Ids to fill the paths: the lead's group, its session 2 (started), a safety alert, a proposal."""
    proposal = GroupProposal(
        status="draft",
        document={"policy": {}},
        result={"groups": [], "unplaced": [], "stats": {}},
        fingerprint={"members": {}, "facilitators": {}},
        created_by="test",
        group_ids=[],
    )
    db.session.add(proposal)
    db.session.commit()
    return {
        "group_id": programme["group"].id,
        "session_id": programme["sessions"][2].id,
        "later_id": programme["sessions"][3].id,
        "member_id": programme["members"][0].id,
        "alert_id": programme["alerts"]["safety"].id,
        "proposal_id": proposal.id,
        "token": "not-a-real-link",
        "filename": "app.css",
    }


def _fill(text: str, ids: dict) -> str:
    return text.format(**ids)


def _open(client, method: str, path: str, data: dict | None, ids: dict, signed_in: bool = True):
    if path in LATER:
        ids = {**ids, "session_id": ids["later_id"]}
    url = _fill(path, ids)
    if method == "GET":
        r = client.get(url)
        r.get_data()  # a static file is streamed: read it, then close it
        r.close()
        return r
    form = {k: _fill(v, ids) for k, v in (data or {}).items()}
    token = csrf_token(client, "/app/calendar" if signed_in else "/app/signin")
    return client.post(url, data={"csrf_token": token, **form})


def snapshot() -> list[int]:
    return [count(model) for model in WORLD]


def test_every_page_is_in_the_table(app):
    table = {(method, path) for method, path, _who, _data in PAGES}
    served = {
        (
            method,
            re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule),
        )
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/app")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert served == table


@pytest.mark.parametrize(("method", "path", "who", "data"), PAGES, ids=IDS)
def test_signed_out_goes_to_sign_in_and_changes_nothing(app, ids, method, path, who, data):
    client = app.test_client()
    before = snapshot()
    r = _open(client, method, path, data, ids, signed_in=False)
    if who == PUBLIC:
        assert r.status_code in (200, 303, 422, 404), (
            r.status_code,
            r.data.decode().split('role="alert"')[-1][:200],
        )
    else:
        assert r.status_code == 303 and r.headers["Location"].startswith("/app/signin?next=")
        assert snapshot() == before


@pytest.mark.parametrize(
    ("method", "path", "who", "data"), [p for p in PAGES if p[0] == "POST"], ids=lambda v: v
)
def test_a_form_without_its_csrf_token_is_refused(coordinator_client, ids, method, path, who, data):
    before = snapshot()
    r = coordinator_client.post(_fill(path, ids), data={k: _fill(v, ids) for k, v in (data or {}).items()})
    assert r.status_code == 400 and b"did not come from this site" in r.data
    assert snapshot() == before


@pytest.mark.parametrize(("method", "path", "who", "data"), PAGES, ids=IDS)
def test_the_groups_facilitator(lead_client, ids, method, path, who, data):
    before = snapshot()
    r = _open(lead_client, method, path, data, ids)
    if who == COORDINATOR:
        assert r.status_code == 403 and b"coordinator" in r.data
        assert snapshot() == before
    else:
        assert r.status_code in (200, 303), (r.status_code, r.data[:300])


@pytest.mark.parametrize(
    ("method", "path", "who", "data"), [p for p in PAGES if p[2] == OWN], ids=lambda v: v
)
def test_another_facilitator_gets_403_and_changes_nothing(other_client, ids, method, path, who, data):
    before = snapshot()
    r = _open(other_client, method, path, data, ids)
    assert r.status_code == 403 and b"own groups" in r.data
    assert snapshot() == before


@pytest.mark.parametrize(("method", "path", "who", "data"), PAGES, ids=IDS)
def test_a_coordinator(coordinator_client, ids, method, path, who, data):
    r = _open(coordinator_client, method, path, data, ids)
    assert r.status_code in (200, 303, 422), (r.status_code, r.data[:300])
