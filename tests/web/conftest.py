"""Fixtures for the pages: a programme with sessions already held, browsers signed in as each role
(through a real sign-in link, CSRF tokens read from the pages as a browser would)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from ipt_groups.cycles.operations import start_cycle
from ipt_groups.extensions import db as _db
from ipt_groups.groups.operations import enrol_member
from ipt_groups.models import Alert, Coordinator, GroupSession
from ipt_groups.signin import Person, create_link
from tests.conftest import NOW

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client, page: str = "/app/signin") -> str:
    """The CSRF token a page's forms carry."""
    html = client.get(page).get_data(as_text=True)
    found = CSRF.search(html)
    assert found, f"no CSRF token on {page}"
    return found.group(1)


def sign_in(client, role: str, person_id: int, name: str = "someone") -> None:
    """Sign a test client in through a CLI-style sign-in link."""
    _row, token = create_link(Person(role, person_id, name), 1, "test", NOW)
    _db.session.commit()
    page = f"/app/signin/link/{token}"
    r = client.post(page, data={"csrf_token": csrf_token(client, page)})
    assert r.status_code == 303 and "/app/signin" not in r.headers["Location"], r.headers.get("Location")


def post(client, path: str, data: dict | None = None, page: str = "/app/calendar", **kwargs):
    """POST a form with the CSRF token a signed-in page carries."""
    return client.post(path, data={"csrf_token": csrf_token(client, page), **(data or {})}, **kwargs)


@pytest.fixture
def programme(db, make_facilitator, make_member, make_group):
    """A Tuesday 18:00 Chicago group of three whose cycle started 2026-11-17 (sessions 1 and 2 have
    started at NOW, 3 is on 2026-12-01), another facilitator's group, a coordinator, and alerts."""
    lead, other = make_facilitator(0), make_facilitator(1)
    group = make_group(lead.id, name="Tuesday grief")
    members = [make_member(i, name=f"{n} Diaz") for i, n in enumerate(("Ana", "Bea", "Cruz"))]
    for m in members:
        enrol_member(group, m, {}, "test", NOW - timedelta(days=14))
    start_cycle(group, {"first_date": date(2026, 11, 17)}, "test", NOW - timedelta(days=14))
    theirs = make_group(other.id, name="Other group")
    stranger = make_member(9, name="Dora Other")
    enrol_member(theirs, stranger, {}, "test", NOW - timedelta(days=14))
    start_cycle(theirs, {"first_date": date(2026, 11, 17)}, "test", NOW - timedelta(days=14))
    coordinator = Coordinator(name="Cora Lead", phone="+12025550777", timezone="America/Chicago")
    _db.session.add(coordinator)
    _db.session.flush()
    alerts = {
        "safety": Alert(
            kind="safety", member_id=members[0].id, group_id=group.id, created_at=NOW, notified=[]
        ),
        "outreach": Alert(kind="outreach", member_id=members[1].id, group_id=group.id, created_at=NOW),
        "theirs": Alert(
            kind="safety", member_id=stranger.id, group_id=theirs.id, created_at=NOW, notified=[]
        ),
        "operator": Alert(kind="operator", created_at=NOW, detail={"problem": "config"}),
    }
    _db.session.add_all(alerts.values())
    _db.session.commit()
    sessions = {
        s.number: s for s in _db.session.query(GroupSession).filter_by(group_id=group.id).order_by("number")
    }
    return {
        "lead": lead,
        "other": other,
        "group": group,
        "theirs": theirs,
        "members": members,
        "stranger": stranger,
        "coordinator": coordinator,
        "alerts": alerts,
        "sessions": sessions,
    }


@pytest.fixture
def lead_client(app, programme):
    """A browser signed in as the group's facilitator."""
    client = app.test_client()
    sign_in(client, "facilitator", programme["lead"].id, programme["lead"].name)
    return client


@pytest.fixture
def coordinator_client(app, programme):
    """A browser signed in as a coordinator."""
    client = app.test_client()
    sign_in(client, "coordinator", programme["coordinator"].id, programme["coordinator"].name)
    return client


@pytest.fixture
def other_client(app, programme):
    """A browser signed in as the facilitator of another group."""
    client = app.test_client()
    sign_in(client, "facilitator", programme["other"].id, programme["other"].name)
    return client
