"""Attendance benchmark on PostgreSQL, through the API: a 20-session group's sheet (JSON, CSV, PDF) and
the programme CSV report over 1,000 groups, with SQL query counts. Prints a Markdown report.

    python bench/attendance.py                                   # full run (35-55 s here)
    python bench/attendance.py --groups 200 --json 50 --pdf 10   # a quick smoke run
    python bench/attendance.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench_attendance

"Through the API" means the Flask test client: real WSGI requests in this process (routing, token
check, rate limiter, argument parsing, view, serialisation), with no socket and no HTTP server. Each
request opens and closes its own SQLAlchemy session, as under gunicorn.

The database named by --url (default `bench_attendance`) is created if absent; its `public` schema is
dropped, recreated and migrated at the start of every run, and the tables are emptied between the
programme-report cases. Setup is not timed. See docs/bench-attendance.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pgdb import ensure_database, reset_schema  # noqa: E402
from sqlalchemy import create_engine, event, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from config import TestingConfig  # noqa: E402
from ipt_groups.app import create_app  # noqa: E402
from ipt_groups.attendance.records import build_sheet  # noqa: E402
from ipt_groups.attendance.sheets import sheet_csv, sheet_json, sheet_pdf  # noqa: E402
from ipt_groups.auth import create_token  # noqa: E402
from ipt_groups.cycles.operations import start_cycle  # noqa: E402
from ipt_groups.cycles.templates import TEMPLATES, phase_of  # noqa: E402
from ipt_groups.extensions import db  # noqa: E402
from ipt_groups.groups.operations import create_group, enrol_member  # noqa: E402
from ipt_groups.models import (  # noqa: E402
    Alert,
    Checkin,
    Enrolment,
    Facilitator,
    Group,
    GroupSession,
    Member,
)
from ipt_groups.people.roster import create_facilitator, create_member  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_attendance"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # when groups are formed and cycles started
FIRST = date(2026, 12, 1)  # a Tuesday: session 1 of every group
ZONE = "America/Chicago"
HELD = 15  # of the sheet group's 20 sessions
REPORT_HELD = 10  # of each programme group's 12 sessions
TARGETS = {"json": 30.0, "pdf": 300.0, "report": 10_000.0}  # p50 in ms
STATUS_WEIGHTS = {"present": 70, "late": 10, "absent": 14, "excused": 6}
NAMES = (
    "Zoë Müller", "O'Brien, Pat", "Łucja Nowak", "Nguyễn Thị Lan", "José Ramírez", "Amara Okafor",
    "Grace Lee", "Mohammed Al-Sayed", "Ingrid Sørensen", "Chloé Dubois",
)  # fmt: skip


# --- database and app ------------------------------------------------------------------------------


def empty_tables() -> None:
    """Every application table emptied, ids restarted; the migration history stays."""
    names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    db.session.commit()


def analyze() -> None:
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))


class QueryCounter:
    """Counts statements sent to the database (before_cursor_execute), keeps their first words, and
    adds up the time from before to after cursor.execute (the round trip, without fetching rows)."""

    def __init__(self, engine) -> None:
        self.active, self.seconds, self._t0 = False, 0.0, 0.0
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        if self.active:
            self.statements.append(" ".join(statement.split())[:100])
            self._t0 = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.active:
            self.seconds += time.perf_counter() - self._t0

    @contextmanager
    def counting(self):
        self.statements, self.seconds, self.active = [], 0.0, True
        try:
            yield self
        finally:
            self.active = False


def coordinator_headers() -> dict:
    _row, token = create_token("coordinator", "bench coordinator", None, "bench")
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# --- the sheet group: built with the domain functions, attendance recorded through the API ----------


def member_fields(i: int, name: str) -> dict:
    return {
        "name": name,
        "phone": f"+1415555{1000 + i:04d}",
        "timezone": ZONE,
        "language": "en",
        "age_band": "adult",
        "problem_area": "grief",
        "availability": [{"day": "tue", "start": "17:00", "end": "21:00"}],
        "sms_consent": True,
        "sms_consent_source": "benchmark intake form",
    }


def facilitator_fields(i: int) -> dict:
    return {
        "name": f"Sheet Facilitator {i}",
        "phone": f"+1415666{1000 + i:04d}",
        "email": f"sheet{i}@bench.example.org",
        "timezone": ZONE,
        "languages": ["en"],
        "problem_areas": ["grief"],
        "availability": [{"day": "tue", "start": "17:00", "end": "21:00"}],
        "max_groups": 2,
    }


def make_sheet_group(index: int, size: int) -> tuple[int, list[int]]:
    """A grief group (Tuesdays 18:00 Chicago) of `size` members with a started wilfley-20 cycle."""
    facilitator = create_facilitator(facilitator_fields(index), "bench", NOW)
    data = {"name": f"Sheet group {index}", "problem_area": "grief", "language": "en", "day": "tue"}
    group = create_group({**data, "start_time": "18:00", "facilitator_id": facilitator.id}, "bench", NOW)
    members = [create_member(member_fields(index * 100 + k, NAMES[k]), "bench", NOW) for k in range(size)]
    for m in members:
        enrol_member(group, m, {}, "bench", NOW)
    start_cycle(group, {"template": "wilfley-20", "first_date": FIRST}, "bench", NOW)
    db.session.commit()
    return group.id, [m.id for m in members]


def sheet_marks(members: list[int], rng: random.Random) -> dict[int, list[dict]]:
    """Session number -> records: mixed statuses, one member absent from 14 on (outreach), one from 9
    on (cannot complete), one mark left unrecorded."""
    marks = {}
    for n in range(1, HELD + 1):
        records = []
        for k, member_id in enumerate(members):
            status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
            if (k == 3 and n >= 14) or (k == 4 and n >= 9):
                status = "absent"
            if not (k == 5 and n == 4):
                records.append({"member_id": member_id, "status": status})
        marks[n] = records
    return marks


def record_attendance(app, client, headers: dict, group_id: int, members: list[int], seed: int) -> None:
    """PUT /sessions/{id}/attendance for sessions 1..HELD, the API clock just after each start."""
    sessions = _sessions(group_id)
    for n, records in sheet_marks(members, random.Random(seed)).items():
        app.config["FIXED_NOW"] = sessions[n].starts_at + timedelta(minutes=5)
        r = client.put(
            f"/api/v1/sessions/{sessions[n].id}/attendance", json={"records": records}, headers=headers
        )
        if r.status_code != 200:
            raise RuntimeError(f"recording session {n}: {r.status_code} {r.get_data(as_text=True)[:300]}")


def _sessions(group_id: int) -> dict[int, GroupSession]:
    rows = db.session.scalars(select(GroupSession).filter_by(group_id=group_id))
    return {s.number: s for s in rows}


def add_scores_and_alert(group_id: int, members: list[int]) -> None:
    """Completed check-ins (a PHQ-9 baseline for all, a mid-cycle PHQ-9 and two mood scores for six)
    and one open safety alert."""
    sessions = _sessions(group_id)
    baseline = NOW + timedelta(days=3)
    rows = [
        _checkin(m, group_id, None, "pre_group", "phq9", baseline, 12 + k % 8) for k, m in enumerate(members)
    ]
    for k, m in enumerate(members[:6]):
        rows.append(_checkin(m, group_id, sessions[10], "mid_cycle", "phq9", None, 9 + k % 6))
        rows += [_checkin(m, group_id, sessions[n], "weekly", "mood", None, 4 + k % 5) for n in (12, 13)]
    alert = Alert(
        kind="safety",
        member_id=members[1],
        group_id=group_id,
        detail={"reply": "bench"},
        dedupe_key=f"bench-safety-{group_id}",
        created_at=sessions[13].starts_at + timedelta(days=2),
    )
    db.session.add_all([*rows, alert])
    db.session.commit()


def _checkin(member_id, group_id, session, occasion, instrument, at, score) -> Checkin:
    taken = at or session.starts_at + timedelta(days=2)
    return Checkin(
        member_id=member_id,
        group_id=group_id,
        session_id=session.id if session else None,
        occasion=occasion,
        instrument=instrument,
        answers=[],
        status="complete",
        complete=True,
        started_at=taken - timedelta(minutes=10),
        expires_at=taken + timedelta(hours=48),
        completed_at=taken,
        score=score,
    )


def sheet_now(group_id: int) -> datetime:
    """Three hours after session HELD starts: it is over, the next is a week away."""
    return _sessions(group_id)[HELD].starts_at + timedelta(hours=3)


# --- sheet measurements ----------------------------------------------------------------------------


def time_requests(counter: QueryCounter, client, url: str, headers: dict, n: int, warmup: int) -> dict:
    """Milliseconds per request (client.get until the body is in hand), after `warmup` untimed ones;
    with the mean time per request spent in cursor.execute."""
    for _ in range(warmup):
        _get(client, url, headers)
    times = []
    with counter.counting():
        for _ in range(n):
            t0 = time.perf_counter()
            _get(client, url, headers)
            times.append(1000 * (time.perf_counter() - t0))
    return {"ms": times, "db_ms": 1000 * counter.seconds / n}


def _get(client, url: str, headers: dict) -> bytes:
    r = client.get(url, headers=headers)
    if r.status_code != 200:
        raise RuntimeError(f"GET {url}: {r.status_code} {r.get_data(as_text=True)[:300]}")
    return r.get_data()


def count_queries(counter: QueryCounter, client, url: str, headers: dict) -> list[str]:
    with counter.counting():
        _get(client, url, headers)
    return counter.statements


def in_process_parts(app, group_id: int, n: int) -> dict[str, float]:
    """p50 ms of a sheet request's parts called directly (no WSGI), after one untimed round: loading
    the group and build_sheet in a fresh session, then each renderer; the PDF also in the core font."""
    names = ("load + build_sheet", "sheet_json", "sheet_csv", "sheet_pdf", "sheet_pdf core font")
    renders = (sheet_json, sheet_csv, sheet_pdf, lambda s: sheet_pdf(s, fonts=None))
    parts: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(n + 1):
        with app.app_context():
            t0 = time.perf_counter()
            sheet = build_sheet(db.session.get(Group, group_id), app.config["FIXED_NOW"])
            parts[names[0]].append(time.perf_counter() - t0)
        for name, render in zip(names[1:], renders, strict=True):
            t0 = time.perf_counter()
            render(sheet)
            parts[name].append(time.perf_counter() - t0)
    return {k: 1000 * statistics.median(v[1:]) for k, v in parts.items()}


def check_sheet(client, group_id: int, headers: dict) -> dict:
    """What the 10-member sheet shows, to show the load is what it claims to be."""
    body = json.loads(_get(client, _sheet_url(group_id, "json"), headers))
    cells = [c for m in body["members"] for c in m["attendance"].values()]
    completion = [m["completion"] for m in body["members"]]
    return {
        "members": len(body["members"]),
        "sessions": sum(len(p["sessions"]) for p in body["phases"]),
        "cells": {c: cells.count(c) for c in sorted(set(cells))},
        "completion": {c: completion.count(c) for c in sorted(set(completion))},
        "outreach": sum(bool(m["outreach_session_ids"]) for m in body["members"]),
        "open_alerts": sum(m["open_alerts"] for m in body["members"]),
        "phq9_rows": sum(bool(m["phq9"]) for m in body["members"]),
        "json_bytes": len(_get(client, _sheet_url(group_id, "json"), headers)),
        "pdf_bytes": len(_get(client, _sheet_url(group_id, "pdf"), headers)),
    }


def _sheet_url(group_id: int, fmt: str) -> str:
    return f"/api/v1/groups/{group_id}/attendance-sheet?format={fmt}"


def run_sheet(app, counter: QueryCounter, args) -> dict:
    """Two sheet groups (10 and 5 members) on top of whatever is loaded; query counts and timings."""
    with app.app_context():
        big, big_members = make_sheet_group(1, 10)
        small, small_members = make_sheet_group(2, 5)
        headers = coordinator_headers()
        client = app.test_client()
        for gid, members, seed in ((big, big_members, args.seed), (small, small_members, args.seed + 1)):
            record_attendance(app, client, headers, gid, members, seed)
            add_scores_and_alert(gid, members)
        app.config["FIXED_NOW"] = sheet_now(big)
        db.session.remove()
        analyze()
    counts = {
        (fmt, size): count_queries(counter, client, _sheet_url(gid, fmt), headers)
        for fmt in ("json", "csv", "pdf")
        for size, gid in ((5, small), (10, big))
    }
    runs = (("json", args.json), ("csv", args.csv), ("pdf", args.pdf))
    times = {f: time_requests(counter, client, _sheet_url(big, f), headers, n, args.warmup) for f, n in runs}
    return {
        "group_id": big,
        "check": check_sheet(client, big, headers),
        "counts": counts,
        "times": times,
        "parts": in_process_parts(app, big, n=args.parts),
    }


# --- the programme: groups, members, sessions and attendance in bulk --------------------------------


def load_programme(groups: int, per_group: int, held: int, seed: int) -> dict[str, int]:
    """`groups` ipt-g-12 groups of `per_group` members, sessions 1..held held with marks (2% missing)."""
    template = TEMPLATES["ipt-g-12"]
    fac_ids = _insert_ids(Facilitator, [_facilitator_row(i) for i in range(groups)])
    group_ids = _insert_ids(Group, [_group_row(i, fac_ids[i], per_group) for i in range(groups)])
    member_ids = _insert_ids(Member, [_member_row(n) for n in range(groups * per_group)])
    enrolments = [
        {"group_id": group_ids[n // per_group], "member_id": m, "joined_on": NOW.date()}
        for n, m in enumerate(member_ids)
    ]
    db.session.execute(insert(Enrolment), enrolments)
    numbers = range(1, template.sessions + 1)
    session_rows = [_session_row(g, n, template, held) for g in group_ids for n in numbers]
    session_ids = _insert_ids(GroupSession, session_rows)
    marks = _marks(session_rows, session_ids, member_ids, group_ids, per_group, random.Random(seed))
    _copy_attendance(marks)
    db.session.commit()
    analyze()
    return {"groups": groups, "members": len(member_ids), "sessions": len(session_ids), "marks": len(marks)}


def _insert_ids(model, rows: list[dict]) -> list[int]:
    stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(db.session.scalars(stmt, rows))


def _facilitator_row(i: int) -> dict:
    return {
        "name": f"Facilitator {i}",
        "phone": f"+1202{3000000 + i:07d}",
        "email": f"f{i}@bench.example.org",
        "timezone": ZONE,
        "languages": ["en"],
        "problem_areas": ["grief"],
        "availability": [],
        "max_groups": 2,
        "created_at": NOW,
        "updated_at": NOW,
    }


def _group_row(i: int, facilitator_id: int, size: int) -> dict:
    return {
        "name": f"Group {i}",
        "problem_area": "grief",
        "language": "en",
        "timezone": ZONE,
        "day": "tue",
        "start_time": "18:00",
        "session_minutes": 90,
        "max_size": max(10, size),
        "status": "running",
        "facilitator_id": facilitator_id,
        "created_at": NOW,
        "updated_at": NOW,
    }


def _member_row(n: int) -> dict:
    return {
        "name": f"Member {n}",
        "phone": f"+1312{2000000 + n:07d}",
        "timezone": ZONE,
        "language": "en",
        "age_band": "adult",
        "problem_area": "grief",
        "availability": [],
        "sms_consent": True,
        "sms_consent_at": NOW,
        "status": "enrolled",
        "waitlisted_at": NOW - timedelta(days=30),
        "created_at": NOW,
        "updated_at": NOW,
    }


def _session_row(group_id: int, number: int, template, held: int) -> dict:
    day = FIRST + timedelta(weeks=number - 1)
    starts = datetime(day.year, day.month, day.day, 18, 0, tzinfo=ZoneInfo(ZONE)).astimezone(UTC)
    return {
        "group_id": group_id,
        "number": number,
        "phase": phase_of(template, number),
        "starts_at": starts,
        "ends_at": starts + timedelta(minutes=90),
        "local_date": day,
        "local_start": "18:00",
        "status": "held" if number <= held else "scheduled",
    }


def _marks(session_rows, session_ids, member_ids, group_ids, per_group, rng) -> list[tuple]:
    members_of = {g: member_ids[i * per_group : (i + 1) * per_group] for i, g in enumerate(group_ids)}
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    recorded = datetime(2027, 3, 1, tzinfo=UTC)
    return [
        (sid, m, rng.choices(statuses, weights)[0], "facilitator", "bench", recorded)
        for row, sid in zip(session_rows, session_ids, strict=True)
        if row["status"] == "held"
        for m in members_of[row["group_id"]]
        if rng.random() >= 0.02
    ]


def _copy_attendance(marks: list[tuple]) -> None:
    """COPY the marks in: 100k rows by executemany would dominate the set-up time."""
    raw = db.session.connection().connection.dbapi_connection
    columns = "session_id, member_id, status, source, recorded_by, recorded_at"
    with raw.cursor() as cur, cur.copy(f"COPY attendance ({columns}) FROM STDIN") as copy:
        for row in marks:
            copy.write_row(row)


# --- report measurements ---------------------------------------------------------------------------


def report_case(app, counter: QueryCounter, groups: int, per_group: int, runs: int, seed: int) -> dict:
    """Load a programme, then count the queries of one CSV report request and time `runs` of them."""
    with app.app_context():
        empty_tables()
        t0 = time.perf_counter()
        loaded = load_programme(groups, per_group, held=REPORT_HELD, seed=seed)
        setup_s = time.perf_counter() - t0
        headers = coordinator_headers()
        db.session.remove()
    client, url = app.test_client(), "/api/v1/reports/attendance?format=csv"
    body = _get(client, url, headers)  # a warm-up, and the body checked below
    statements = count_queries(counter, client, url, headers)
    timed = time_requests(counter, client, url, headers, runs, warmup=0)
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    return {
        **loaded,
        "per_group": per_group,
        "setup_s": setup_s,
        "statements": statements,
        "csv_lines": len(lines) - 1,
        "csv_expected": groups * 4,  # initial, middle, termination (session 10 is held) and `all`
        "csv_bytes": len(body),
        **timed,
    }


# --- the run ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    args.load_at_start = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    started = time.perf_counter()
    ensure_database(args.url)
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=args.url, FIXED_NOW=NOW)
    reset_schema(app)
    with app.app_context():
        counter = QueryCounter(db.engine)
    cases = [(g, m) for g in (args.small_groups, args.groups) for m in (5, 10)]
    reports = [report_case(app, counter, g, m, args.report_runs, args.seed) for g, m in cases]
    sheet = run_sheet(app, counter, args)  # on top of the last programme: --groups x 10 members
    print_report(args, reports, sheet, time.perf_counter() - started)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="SQLAlchemy URL of a PostgreSQL database")
    parser.add_argument("--groups", type=int, default=1000, help="groups in the large programme")
    parser.add_argument("--small-groups", type=int, default=100, help="groups in the small programme")
    parser.add_argument("--report-runs", type=int, default=20, help="timed report requests per case")
    parser.add_argument("--json", type=int, default=200, help="timed JSON sheet requests")
    parser.add_argument("--csv", type=int, default=50, help="timed CSV sheet requests")
    parser.add_argument("--pdf", type=int, default=50, help="timed PDF sheet requests")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests before each sheet series")
    parser.add_argument("--parts", type=int, default=20, help="in-process repetitions of the sheet's parts")
    parser.add_argument("--seed", type=int, default=20261125)
    return parser.parse_args(argv)


# --- the printed report ----------------------------------------------------------------------------


def machine_facts(url: str) -> list[str]:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")), "?")
    mem_kb = next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in ln)
    engine = create_engine(url)
    with engine.connect() as conn:
        pg = conn.scalar(text("SHOW server_version"))
    engine.dispose()
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("Flask", "SQLAlchemy", "psycopg", "fpdf2"))
    cores = len(os.sched_getaffinity(0))
    return [
        f"- CPU: {cpu}, {cores} cores; RAM {int(mem_kb) / 2**20:.0f} GiB; Linux {platform.release()}",
        f"- Python {platform.python_version()}; {versions}",
        f"- PostgreSQL {pg} at {make_url(url).host}:{make_url(url).port} (TCP, same machine)",
        f"- Code: {_git('rev-parse', '--short', 'HEAD')}; measured files changed since: {_dirty()}",
    ]


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def _dirty() -> str:
    paths = [
        "ipt_groups/attendance/rules.py",
        "ipt_groups/attendance/records.py",
        "ipt_groups/attendance/api.py",
    ]
    changed = _git("status", "--porcelain", "--", *paths, "ipt_groups/attendance/sheets", "ipt_groups/models")
    return ", ".join(line[3:] for line in changed.splitlines()) or "none"


def _row(figure: str, timed: dict, target: float | None) -> str:
    values = timed["ms"]
    p50, p95, worst = pct(values, 50), pct(values, 95), max(values)
    goal = "" if target is None else f"p50 ≤ {target:,.0f} ms"
    met = "" if target is None else _yes(p50 <= target)
    db_ms = f"{timed['db_ms']:.1f}"
    return f"| {figure} | {len(values)} | {p50:,.1f} | {p95:,.1f} | {worst:,.1f} | {db_ms} | {goal} | {met} |"


def print_report(args, reports: list[dict], sheet: dict, wall: float) -> None:
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    out = ["# Attendance benchmark", "", *machine_facts(args.url)]
    out += [
        f"- Load average (1/5/15 min) at start {args.load_at_start}, at end {load}; run took {wall:.0f} s",
        "",
    ]
    out += _results(reports, sheet) + _counts(reports, sheet) + _load(reports, sheet)
    print("\n".join(out))


def _results(reports: list[dict], sheet: dict) -> list[str]:
    t, big = sheet["times"], reports[-1]
    out = ["## Results (through the API: Flask test client, in-process WSGI)", ""]
    out += ["| figure | n | p50 ms | p95 ms | max ms | in execute ms | target | met? |"]
    out += ["|---|---|---|---|---|---|---|---|"]
    out.append(_row("sheet JSON, 20 sessions x 10 members", t["json"], TARGETS["json"]))
    out.append(_row("sheet PDF, same group", t["pdf"], TARGETS["pdf"]))
    out.append(_row("sheet CSV, same group", t["csv"], None))
    name = f"programme CSV report, {big['groups']:,} groups x {big['per_group']} members"
    out.append(_row(name, big, TARGETS["report"]))
    for r in reports[:-1]:
        out.append(_row(f"programme CSV report, {r['groups']:,} groups x {r['per_group']} members", r, None))
    parts = ", ".join(f"{k} {v:.1f}" for k, v in sheet["parts"].items())
    return out + ["", f"In-process p50 of the sheet's parts (ms, no WSGI): {parts}.", ""]


def _counts(reports: list[dict], sheet: dict) -> list[str]:
    c = sheet["counts"]
    out = ["## Query counts (one request; statements seen by before_cursor_execute)", ""]
    out += ["| sheet request | 5 members | 10 members |", "|---|---|---|"]
    out += [f"| ?format={f} | {len(c[(f, 5)])} | {len(c[(f, 10)])} |" for f in ("json", "csv", "pdf")]
    out += ["", "| programme report, ?format=csv | 5 members per group | 10 members per group |"]
    out += ["|---|---|---|"]
    for g in sorted({r["groups"] for r in reports}):
        by = {r["per_group"]: len(r["statements"]) for r in reports if r["groups"] == g}
        out.append(f"| {g:,} groups | {by.get(5, '-')} | {by.get(10, '-')} |")
    same_sheet = all(len(c[(f, 5)]) == len(c[(f, 10)]) for f in ("json", "csv", "pdf"))
    same_report = len({len(r["statements"]) for r in reports}) == 1
    out += ["", f"Sheet count the same at 5 and 10 members: {_yes(same_sheet)}."]
    out += [f"Report count the same across groups and members per group: {_yes(same_report)}."]
    out += ["", "One 10-member JSON sheet request:", "", "```", *c[("json", 10)], "```", ""]
    return out + ["One report request (largest case):", "", "```", *reports[-1]["statements"], "```", ""]


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def _load(reports: list[dict], sheet: dict) -> list[str]:
    out = [
        "## Load",
        "",
        "| programme | members | sessions | marks | CSV lines (expected) | CSV bytes | setup s |",
    ]
    out += ["|---|---|---|---|---|---|---|"]
    for r in reports:
        out.append(
            f"| {r['groups']:,} x {r['per_group']} | {r['members']:,} | {r['sessions']:,} | {r['marks']:,} "
            f"| {r['csv_lines']:,} ({r['csv_expected']:,}) | {r['csv_bytes']:,} | {r['setup_s']:.1f} |"
        )
    c = sheet["check"]
    return out + [
        "",
        f"Sheet group {sheet['group_id']}: {c['members']} members x {c['sessions']} sessions;"
        f" cells {c['cells']}; completion {c['completion']}; outreach due for {c['outreach']};"
        f" open safety alerts {c['open_alerts']}; members with PHQ-9 {c['phq9_rows']};"
        f" JSON {c['json_bytes']:,} bytes, PDF {c['pdf_bytes']:,} bytes.",
        "",
    ]


if __name__ == "__main__":
    main()
