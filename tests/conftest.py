"""Layered fixtures: app -> db -> client/runner; factories for data; a guard against real Twilio."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import requests
from flask_migrate import upgrade
from sqlalchemy import text

from config import TestingConfig
from ipt_groups.app import create_app
from ipt_groups.auth import create_token
from ipt_groups.cycles.operations import start_cycle
from ipt_groups.extensions import db as _db
from ipt_groups.groups.operations import create_group, enrol_member
from ipt_groups.people.roster import create_facilitator, create_member

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(autouse=True)
def no_real_twilio(monkeypatch):
    """Fail any test whose code would reach the real Twilio over HTTP."""
    real_send = requests.Session.send

    def guarded(session, request, **kwargs):
        host = requests.utils.urlparse(request.url).hostname or ""
        if host == "twilio.com" or host.endswith(".twilio.com"):
            pytest.fail(f"a test tried to reach the real Twilio: {request.method} {request.url}")
        return real_send(session, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", guarded)


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    return url or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    """One app for the session, its schema made by the migrations on a blank database."""
    url = _database_url(tmp_path_factory)
    spool = tmp_path_factory.mktemp("spool") / "inbound-spool.jsonl"
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url, FIXED_NOW=NOW, INBOUND_SPOOL_PATH=str(spool))
    # An instance folder of the suite's own: a `make run` in the same checkout keeps its scheduler's
    # lock in instance/, and the suite must not meet it.
    app.instance_path = str(tmp_path_factory.mktemp("instance"))
    with app.app_context():
        if _db.engine.dialect.name == "postgresql":
            _reset_postgres()
        upgrade()
        yield app


def _reset_postgres() -> None:
    with _db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture
def db(app):
    """The database, emptied after each test."""
    yield _db
    _db.session.rollback()
    _db.session.remove()
    with _db.engine.begin() as conn:
        for table in reversed(_db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture
def coordinator_token(db):
    _row, token = create_token("coordinator", "test coordinator", None, "test")
    db.session.commit()
    return token


@pytest.fixture
def auth(coordinator_token):
    """Headers of a coordinator."""
    return {"Authorization": f"Bearer {coordinator_token}"}


@pytest.fixture
def facilitator_auth(db):
    """Headers for a facilitator's own token: facilitator_auth(facilitator_id)."""

    def make(facilitator_id: int) -> dict:
        _row, token = create_token("facilitator", f"facilitator {facilitator_id}", facilitator_id, "test")
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}

    return make


def member_data(i: int = 0, **overrides) -> dict:
    """Valid member fields; phones differ by `i`."""
    data = {
        "name": f"Member {i}",
        "phone": f"+1312555{1000 + i:04d}",
        "timezone": "America/Chicago",
        "language": "en",
        "age_band": "adult",
        "problem_area": "grief",
        "availability": [{"day": "tue", "start": "17:00", "end": "21:00"}],
        "sms_consent": True,
        "sms_consent_source": "intake form",
    }
    return {**data, **overrides}


def facilitator_data(i: int = 0, **overrides) -> dict:
    """Valid facilitator fields; phone and email differ by `i`."""
    data = {
        "name": f"Facilitator {i}",
        "phone": f"+1202555{100 + i:04d}",
        "email": f"f{i}@example.org",
        "timezone": "America/Chicago",
        "languages": ["en", "es"],
        "problem_areas": ["grief", "role_dispute"],
        "availability": [{"day": "tue", "start": "17:00", "end": "21:00"}],
        "max_groups": 2,
    }
    return {**data, **overrides}


@pytest.fixture
def make_member(db):
    """Create and commit a member through the domain function."""

    def make(i: int = 0, **overrides):
        member = create_member(member_data(i, **overrides), "test", NOW)
        db.session.commit()
        return member

    return make


@pytest.fixture
def make_facilitator(db):
    """Create and commit a facilitator through the domain function."""

    def make(i: int = 0, **overrides):
        facilitator = create_facilitator(facilitator_data(i, **overrides), "test", NOW)
        db.session.commit()
        return facilitator

    return make


def group_data(facilitator_id: int, /, **overrides) -> dict:
    """Valid group fields: a Tuesday-evening grief group in English (18:00 in the facilitator's zone)."""
    data = {"name": "Tuesday grief", "problem_area": "grief", "language": "en", "day": "tue"}
    data |= {"start_time": "18:00", "session_minutes": 90, "max_size": 10, "facilitator_id": facilitator_id}
    return {**data, **overrides}


@pytest.fixture
def make_group(db):
    """Create and commit a group through the domain function."""

    def make(facilitator_id: int, **overrides):
        group = create_group(group_data(facilitator_id, **overrides), "test", NOW)
        db.session.commit()
        return group

    return make


@pytest.fixture
def group_in(db, make_facilitator, make_group):
    """A Tuesday 18:00 Chicago group meeting in `language`, with these members and a 12-session cycle
    from 2026-12-01, led by a facilitator who speaks English and Spanish and reads their texts in English."""

    def make(language, members):
        group = make_group(make_facilitator(0).id, name="Tuesday group", language=language)
        for member in members:
            enrol_member(group, member, {}, "test", NOW)
        start_cycle(group, {"first_date": date(2026, 12, 1)}, "test", NOW)
        db.session.commit()
        return group

    return make


@pytest.fixture
def started_group(group_in):
    """A Tuesday 18:00 Chicago group in English with these members and a 12-session cycle from 2026-12-01."""
    return lambda members: group_in("en", members)


@pytest.fixture
def rosa(make_member, group_in):
    """A Spanish-speaking member of a Spanish group whose facilitator reads English."""
    member = make_member(0, name="Rosa Díaz", language="es")
    group_in("es", [member])
    return member


@pytest.fixture
def member(started_group, make_member):
    """A member (phone +13125551000) of a group whose 12-session cycle starts 2026-12-01 (a Tuesday,
    18:00 Chicago)."""
    m = make_member(0)
    started_group([m])
    return m


def count(model) -> int:
    """Rows of a model, for 'nothing changed' assertions."""
    return _db.session.query(model).count()
