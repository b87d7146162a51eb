"""Setting up the fault benchmark: its own PostgreSQL database, a programme made through the domain
functions a coordinator's requests call (facilitators, groups, members, enrolments, cycles), and
the cycle's outbox compressed from weeks into minutes of real time."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text

from config import TestingConfig
from ipt_groups.app import create_app
from ipt_groups.cycles.operations import start_cycle
from ipt_groups.extensions import db
from ipt_groups.groups.operations import create_group, enrol_member
from ipt_groups.models import Group
from ipt_groups.people.roster import create_facilitator, create_member
from ipt_groups.vocabulary import DAYS, PROBLEM_AREAS

ACTOR = "bench:faults"
# No quiet hours at all: QuietHours(00:00, 00:00) contains no time (start <= t < end is empty),
# so neither planning nor the dispatcher defers anything whatever the recipients' clocks say.
NO_QUIET_HOURS = "00:00-00:00"
ZONES = ("America/Chicago", "America/New_York", "America/Los_Angeles", "Europe/London")
SLOTS = ("17:00", "18:00", "19:00", "10:00")


def build_app(url: str):
    """The harness's own app (setup and accounting); the scheduler is a separate process."""
    return create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url, QUIET_HOURS=NO_QUIET_HOURS)


# --- the programme ---------------------------------------------------------------------------------


def populate(app, groups: int, members_per_group: int, now: datetime) -> list[str]:
    """One facilitator per group, `members_per_group` members enrolled, then each cycle started 2-3
    weeks ahead; one transaction per group, as the API would. Returns the members' phones."""
    phones = []
    for i in range(groups):
        with app.app_context():
            phones += _one_group(i, members_per_group, now)
            db.session.commit()
    return phones


def _one_group(i: int, size: int, now: datetime) -> list[str]:
    zone, day, slot = ZONES[i % len(ZONES)], DAYS[i % 7], SLOTS[(i // 7) % len(SLOTS)]
    area = PROBLEM_AREAS[i % len(PROBLEM_AREAS)]
    window = [{"day": day, "start": slot, "end": f"{int(slot[:2]) + 2:02d}{slot[2:]}"}]
    facilitator = create_facilitator(
        {
            "name": f"Facilitator {i}",
            "phone": f"+1202{3000000 + i:07d}",
            "email": f"f{i}@faults.example.org",
            "timezone": zone,
            "languages": ["en"],
            "problem_areas": [area],
            "availability": window,
            "max_groups": 2,
        },
        ACTOR,
        now,
    )
    group = create_group(
        {
            "name": f"Group {i}",
            "problem_area": area,
            "language": "en",
            "day": day,
            "start_time": slot,
            "session_minutes": 90,
            "max_size": max(10, size),
            "facilitator_id": facilitator.id,
        },
        ACTOR,
        now,
    )
    phones = [_enrol(group.id, i * size + k, zone, area, window, now) for k in range(size)]
    start_cycle(group, {"template": "ipt-g-12", "first_date": _first_date(day, zone, now)}, ACTOR, now)
    return phones


def _enrol(group_id: int, n: int, zone: str, area: str, window: list, now: datetime) -> str:
    member = create_member(
        {
            "name": f"Member {n}",
            "phone": f"+1312{2000000 + n:07d}",
            "timezone": zone,
            "language": "en",
            "age_band": "adult",
            "problem_area": area,
            "availability": window,
            "sms_consent": True,
            "sms_consent_source": "benchmark intake form",
        },
        ACTOR,
        now,
    )
    enrol_member(db.session.get(Group, group_id), member, {}, ACTOR, now)
    return member.phone


def _first_date(day: str, zone: str, now: datetime) -> date:
    today = now.astimezone(ZoneInfo(zone)).date()
    return today + timedelta(days=(DAYS.index(day) - today.weekday()) % 7 + 14)


def pick_bad_numbers(phones: list[str], count: int, seed: int) -> frozenset[str]:
    """Members whose number the stand-in refuses as invalid (21211): a permanent failure path."""
    return frozenset(random.Random(seed).sample(phones, min(count, len(phones))))


# --- simulated time ----------------------------------------------------------------------------------


def compress_schedule(app, lead_s: float, window_s: float, floor_s: float) -> dict:
    """Map every pending row's due_at linearly onto [now + lead, now + lead + window] (order kept);
    each deadline keeps its gap after due_at, scaled the same way but never under `floor_s` (the
    product's retry delay is real time). Returns the mapping for the report."""
    with app.app_context():
        rows = db.session.execute(
            text("SELECT id, due_at, deadline_at FROM messages WHERE state = 'pending'")
        ).all()
        first, last = min(r.due_at for r in rows), max(r.due_at for r in rows)
        scale = window_s / max((last - first).total_seconds(), 1.0)
        start = datetime.now(UTC) + timedelta(seconds=lead_s)
        params = [_mapped(r, first, start, scale, floor_s) for r in rows]
        db.session.execute(
            text("UPDATE messages SET due_at = :due, deadline_at = :deadline WHERE id = :id"), params
        )
        db.session.commit()
    return {"rows": len(rows), "simulated_days": (last - first).days, "real_s": window_s, "scale": scale}


def _mapped(row, first: datetime, start: datetime, scale: float, floor_s: float) -> dict:
    due = start + (row.due_at - first) * scale
    deadline = None
    if row.deadline_at is not None:
        gap = max((row.deadline_at - row.due_at) * scale, timedelta(seconds=floor_s))
        deadline = due + gap
    return {"id": row.id, "due": due, "deadline": deadline}
