"""The database side of bench/webhook.py: create and migrate `bench_webhook`, seed members in groups
with started cycles and open PHQ-9 check-ins, re-open the check-ins between runs, and count what the
webhook stored."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text

from config import config_for, database_url
from ipt_groups.api.fields import normalise_phone
from ipt_groups.app import create_app
from ipt_groups.cycles.operations import start_cycle
from ipt_groups.extensions import db
from ipt_groups.models import Checkin, Enrolment, Facilitator, Group, Member
from ipt_groups.vocabulary import DAYS, PROBLEM_AREAS

ZONE = "America/Chicago"
CHECKIN_OPEN_FOR = timedelta(days=7)


@dataclass(frozen=True)
class Seeded:
    """Who can reply: (member id, phone) of those with an open check-in and of the others."""

    survey: list[tuple[int, str]]
    rsvp: list[tuple[int, str]]
    groups: int
    seconds: float


def build_app(url: str):
    """The real app in development mode on the benchmark database."""
    return create_app(config_for("development"), SQLALCHEMY_DATABASE_URI=database_url(url))


def seed(app, members: int, group_size: int, now: datetime) -> Seeded:
    """Groups of `group_size` with a started 12-session cycle each; the first half of every group
    gets an open PHQ-9 check-in (survey answers), the second half replies C or X (RSVPs)."""
    started = time.perf_counter()
    groups = members // group_size
    with app.app_context():
        group_ids, member_ids = _insert_roster(groups, group_size, now)
        for i, gid in enumerate(group_ids):
            start_cycle(
                db.session.get(Group, gid),
                {"template": "ipt-g-12", "first_date": _first_date(DAYS[i % 7], now)},
                "bench",
                now,
            )
            db.session.commit()
        survey, rsvp = _split(member_ids, group_ids, group_size)
        db.session.execute(insert(Checkin), [_checkin_row(m, g, now) for m, g in survey])
        db.session.commit()
    _vacuum(app)
    phones = {m: _member_phone(n) for n, m in enumerate(member_ids)}
    return Seeded(
        [(m, phones[m]) for m, _ in survey],
        [(m, phones[m]) for m, _ in rsvp],
        groups,
        time.perf_counter() - started,
    )


def _insert_roster(groups: int, size: int, now: datetime) -> tuple[list[int], list[int]]:
    fac_ids = _insert_ids(Facilitator, [_facilitator_row(i, now) for i in range(groups)])
    group_ids = _insert_ids(Group, [_group_row(i, fac_ids[i], size, now) for i in range(groups)])
    member_ids = _insert_ids(Member, [_member_row(n, (n // size) % 7, now) for n in range(groups * size)])
    enrolments = [
        {"group_id": group_ids[n // size], "member_id": m, "joined_on": now.date()}
        for n, m in enumerate(member_ids)
    ]
    db.session.execute(insert(Enrolment), enrolments)
    db.session.commit()
    return group_ids, member_ids


def _split(member_ids: list[int], group_ids: list[int], size: int) -> tuple[list, list]:
    """(member id, group id) pairs: the first half of each group, and the rest."""
    survey, rsvp = [], []
    for n, m in enumerate(member_ids):
        (survey if n % size < size // 2 else rsvp).append((m, group_ids[n // size]))
    return survey, rsvp


def _insert_ids(model, rows: list[dict]) -> list[int]:
    stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(db.session.scalars(stmt, rows))


def _first_date(day: str, now: datetime) -> date:
    """The group's weekday 14-20 days ahead: every session is in the future during the run."""
    today = now.astimezone(ZoneInfo(ZONE)).date()
    return today + timedelta(days=(DAYS.index(day) - today.weekday()) % 7 + 14)


def _window(day: str) -> list[dict]:
    return [{"day": day, "start": "18:00", "end": "20:00"}]


def _facilitator_row(i: int, now: datetime) -> dict:
    return {
        "name": f"Facilitator {i}",
        "phone": normalise_phone(f"+1202{3000000 + i:07d}", "US"),
        "email": f"f{i}@bench.example.org",
        "timezone": ZONE,
        "languages": ["en"],
        "problem_areas": list(PROBLEM_AREAS),
        "availability": _window(DAYS[i % 7]),
        "max_groups": 2,
        "created_at": now,
        "updated_at": now,
    }


def _group_row(i: int, facilitator_id: int, size: int, now: datetime) -> dict:
    return {
        "name": f"Group {i}",
        "problem_area": PROBLEM_AREAS[i % len(PROBLEM_AREAS)],
        "language": "en",
        "timezone": ZONE,
        "day": DAYS[i % 7],
        "start_time": "18:00",
        "session_minutes": 90,
        "max_size": max(10, size),
        "status": "forming",
        "facilitator_id": facilitator_id,
        "created_at": now,
        "updated_at": now,
    }


def _member_phone(n: int) -> str:
    return normalise_phone(f"+1312{2000000 + n:07d}", "US")


def _member_row(n: int, day_index: int, now: datetime) -> dict:
    return {
        "name": f"Member {n}",
        "phone": _member_phone(n),
        "timezone": ZONE,
        "language": "en",
        "age_band": "adult",
        "problem_area": PROBLEM_AREAS[(n // 10) % len(PROBLEM_AREAS)],
        "availability": _window(DAYS[day_index]),
        "sms_consent": True,
        "sms_consent_at": now,
        "sms_consent_source": "benchmark intake form",
        "status": "enrolled",
        "waitlisted_at": now - timedelta(days=30),
        "created_at": now,
        "updated_at": now,
    }


def _checkin_row(member_id: int, group_id: int, now: datetime) -> dict:
    return {
        "member_id": member_id,
        "group_id": group_id,
        "occasion": "mid",
        "instrument": "phq9",
        "answers": [],
        "position": 0,
        "reprompted": False,
        "status": "open",
        "started_at": now,
        "expires_at": now + CHECKIN_OPEN_FOR,
        "complete": False,
    }


def reopen_checkins(app, now: datetime) -> int:
    """Every check-in open again at item 1, so each run starts from the same survey state."""
    stmt = text(
        "UPDATE checkins SET status = 'open', answers = CAST('[]' AS JSON), position = 0,"
        " reprompted = false, completed_at = NULL, score = NULL, band = NULL, complete = false,"
        " started_at = :now, expires_at = :exp"
    )
    with app.app_context():
        count = db.session.execute(stmt, {"now": now, "exp": now + CHECKIN_OPEN_FOR}).rowcount
        db.session.commit()
    _vacuum(app)
    return count


def _vacuum(app) -> None:
    with app.app_context(), db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE)"))


def stored_kinds(app, sid_prefix: str) -> dict[str, int]:
    """Inbound rows whose MessageSid starts with `sid_prefix`, by kind."""
    query = text("SELECT kind, count(*) FROM inbound_messages WHERE provider_id LIKE :p GROUP BY kind")
    with app.app_context():
        rows = db.session.execute(query, {"p": sid_prefix + "%"}).all()
        db.session.rollback()
    return {kind: n for kind, n in rows}


def stored_sids(app, sid_prefix: str) -> set[str]:
    """MessageSids of the inbound rows starting with `sid_prefix`."""
    query = text("SELECT provider_id FROM inbound_messages WHERE provider_id LIKE :p")
    with app.app_context():
        sids = set(db.session.scalars(query, {"p": sid_prefix + "%"}))
        db.session.rollback()
    return sids


def postmaster_started(app) -> datetime:
    """When the PostgreSQL server last started: a change means someone restarted it."""
    with app.app_context():
        started = db.session.scalar(text("SELECT pg_postmaster_start_time()"))
        db.session.rollback()
    return started


def backend_pids(app) -> list[int]:
    """PostgreSQL backends connected to the benchmark database, other than this one."""
    query = text(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    with app.app_context():
        pids = list(db.session.scalars(query))
        db.session.rollback()
    return pids
