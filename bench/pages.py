"""Server time of the pages (issue 15): a facilitator with 5 groups, and a proposal of 2,000 members.

    python bench/pages.py                        # full size, on a throw-away SQLite file
    python bench/pages.py --members 300 --runs 5 # small, while developing
    python bench/pages.py --database postgresql://postgres@127.0.0.1:5432/bench_pages

Each page is requested through the whole app (WSGI: the guard, the session lookup, the queries, the
template, the access-log writes) with Flask's test client, `--runs` times after one warm-up; the time
is the wall time of each request in this process (no network, no browser). Prints a Markdown table of
p50 and p95 per page. Targets: p50 at most 50 ms for the facilitator's pages, 500 ms for the proposal.
The facilitator leads 5 groups of 10 (12-session cycles two weeks in, sessions held and marked, an open
safety alert and an outreach task per group). The proposal is the engine's over a seeded waitlist
(bench/formation_gen.py, shape `plenty`), placed into the database as members and facilitators.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402

from config import TestingConfig  # noqa: E402
from ipt_groups.app import create_app  # noqa: E402
from ipt_groups.attendance.records import record_session  # noqa: E402
from ipt_groups.cycles.operations import cycle_sessions, start_cycle  # noqa: E402
from ipt_groups.extensions import db  # noqa: E402
from ipt_groups.formation import proposals  # noqa: E402
from ipt_groups.groups.operations import create_group, enrol_member  # noqa: E402
from ipt_groups.models import Alert, Coordinator, Facilitator, Member  # noqa: E402
from ipt_groups.people.roster import create_facilitator, create_member  # noqa: E402
from ipt_groups.signin import Person, create_link  # noqa: E402

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
STARTED = NOW - timedelta(days=21)
DAYS = ("mon", "tue", "wed", "thu", "fri")
EVENINGS = [{"day": d, "start": "17:00", "end": "21:00"} for d in DAYS]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _app(url: str | None):
    if url and url.startswith("postgres"):
        from bench.pgdb import ensure_database, reset_schema

        ensure_database(url)
        app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url, FIXED_NOW=NOW)
        reset_schema(app)
        return app
    path = url or f"sqlite:///{tempfile.mkdtemp(prefix='bench-pages-')}/pages.sqlite3"
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=path, FIXED_NOW=NOW)
    with app.app_context():
        upgrade()
    return app


def _person(i: int, **extra) -> dict:
    return {
        "name": f"Member {i} Bench",
        "phone": f"+1312555{i:04d}",
        "timezone": "America/Chicago",
        "language": "en",
        "problem_area": "grief",
        "availability": EVENINGS,
        "sms_consent": True,
        "sms_consent_source": "bench",
        **extra,
    }


def facilitator_world() -> Facilitator:
    """One facilitator leading 5 groups of 10, two sessions held and marked in each."""
    lead = create_facilitator(
        {
            "name": "Bench Lead",
            "phone": "+12025550100",
            "email": "lead@example.org",
            "timezone": "America/Chicago",
            "languages": ["en"],
            "problem_areas": [],
            "availability": EVENINGS,
            "max_groups": 5,
        },
        "bench",
        STARTED,
    )
    for g, day in enumerate(DAYS):
        data = {"name": f"{day.title()} group", "problem_area": "grief", "language": "en", "day": day}
        data |= {"start_time": "18:00", "session_minutes": 90, "max_size": 10, "facilitator_id": lead.id}
        group = create_group(data, "bench", STARTED)
        db.session.flush()
        members = [create_member(_person(100 * g + i), "bench", STARTED) for i in range(10)]
        for member in members:
            enrol_member(group, member, {}, "bench", STARTED)
        start_cycle(group, {"first_date": date(2026, 11, 9) + timedelta(days=g)}, "bench", STARTED)
        for session in [s for s in cycle_sessions(group) if s.starts_at < NOW][:2]:
            marks = [
                {"member_id": m.id, "status": "present" if i % 4 else "absent"} for i, m in enumerate(members)
            ]
            record_session(session, marks, "bench", NOW)
        db.session.add(
            Alert(kind="safety", member_id=members[0].id, group_id=group.id, created_at=NOW, notified=[])
        )
    db.session.commit()
    return lead


def proposal_world(size: int) -> int:
    """A waitlist of `size` (the formation benchmark's generator), its facilitators, the proposal's id."""
    from bench.formation_gen import instance

    doc = instance("plenty", size)
    ids = {}
    for i, f in enumerate(doc["facilitators"]):
        row = create_facilitator(
            {
                "name": f"Facilitator {i}",
                "phone": f"+1202556{i:04d}",
                "email": f"f{i}@example.org",
                "timezone": f["timezone"],
                "languages": f["languages"],
                "problem_areas": f.get("problem_areas", []),
                "availability": f["availability"],
                "max_groups": f["max_groups"],
            },
            "bench",
            NOW,
        )
        ids[f["id"]] = row.id
    for i, m in enumerate(doc["members"]):
        extra = {
            k: m[k] for k in ("timezone", "language", "problem_area", "availability", "age_band") if k in m
        }
        create_member(_person(5000 + i, name=f"Waiting {i} Person", **extra), "bench", NOW)
    db.session.commit()
    policy = {**doc["policy"], "time_limit_s": 2.0}
    proposal = proposals.propose(policy, {}, "bench", NOW)
    db.session.commit()
    return proposal.id


def _signed_in(app, role: str, person_id: int):
    client = app.test_client()
    _row, token = create_link(Person(role, person_id, "bench"), 1, "bench", NOW)
    db.session.commit()
    page = f"/app/signin/link/{token}"
    csrf = CSRF.search(client.get(page).get_data(as_text=True)).group(1)
    assert client.post(page, data={"csrf_token": csrf}).status_code == 303
    return client


def _time(client, path: str, runs: int) -> tuple[float, float]:
    assert client.get(path).status_code == 200, path  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, path
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=2000, help="waitlist size of the proposal")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--database", help="SQLAlchemy URL (default: a throw-away SQLite file)")
    args = parser.parse_args()
    app = _app(args.database)
    # The worlds are built inside an application context; the requests are timed outside any, so each
    # gets its own context and database session, as under gunicorn (nothing cached between requests).
    with app.app_context():
        lead = facilitator_world()
        lead_group = _first_group(lead)
        session_id = next(s.id for s in cycle_sessions(lead_group) if s.starts_at < NOW)
        client = _signed_in(app, "facilitator", lead.id)
        proposal_id = proposal_world(args.members)
        coordinator = Coordinator(name="Bench Coordinator", phone="+12025559999", timezone="America/Chicago")
        db.session.add(coordinator)
        db.session.commit()
        console = _signed_in(app, "coordinator", coordinator.id)
        label = f"proposal of {db.session.query(Member).count() - 50} members"
        group_id = lead_group.id
    pages = [
        "/app/",
        f"/app/sessions/{session_id}",
        "/app/alerts",
        "/app/outreach",
        f"/app/groups/{group_id}",
    ]
    rows = [
        ("facilitator, 5 groups", path, *_time(client, path, args.runs), 50)
        for path in pages + ["/app/calendar"]
    ]
    proposal = f"/app/console/proposals/{proposal_id}"
    for path in (proposal, proposal + "?move=1"):
        rows.append((label, path, *_time(console, path, max(args.runs // 3, 3)), 500))
    rows.append(
        ("coordinator", "/app/console/outcomes", *_time(console, "/app/console/outcomes", args.runs), 500)
    )
    print(f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split('://')[0]}, runs: {args.runs}\n")
    print("| case | page | p50 ms | p95 ms | target p50 ms |\n|---|---|---:|---:|---:|")
    for case, path, p50, p95, target in rows:
        print(f"| {case} | `{path}` | {p50:.1f} | {p95:.1f} | {target} |")


def _first_group(lead: Facilitator):
    from ipt_groups.models import Group

    return db.session.query(Group).filter_by(facilitator_id=lead.id).order_by(Group.id).first()


if __name__ == "__main__":
    main()
