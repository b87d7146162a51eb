"""Scheduling and dispatch benchmark on PostgreSQL: cycle creation, dispatcher ticks over a large
outbox, send throughput, lateness and the scheduler's memory. Prints a Markdown report.

    python bench/scheduling.py                          # full run (1,000 groups x 12 sessions x 8)
    python bench/scheduling.py --groups 50 --due 200    # a quick smoke run
    python bench/scheduling.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench

The database named by --url (default `bench`) is created if absent; its `public` schema is dropped,
recreated and migrated at the start of every run. See docs/bench-scheduling.md for what each figure
means and how the load is built.

Setup (not timed): one facilitator per group, 8 enrolled and consenting members per group, inserted in
bulk. Every person of a group lives in the group's timezone, and the zones are chosen at start-up among
those where it is now 09:00-19:30, so the configured quiet hours (21:00-08:00) defer nothing during the
run. Cycles start 14-20 days ahead, so every planned reminder is in the future; "due" rows are made by
moving the due_at of a seeded random sample of pending rows to chosen instants.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import re
import resource
import statistics
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apscheduler.schedulers.background import BackgroundScheduler  # noqa: E402
from pgdb import ensure_database, reset_schema  # noqa: E402
from sqlalchemy import event, insert, text  # noqa: E402

from config import TestingConfig  # noqa: E402
from ipt_groups.api.fields import normalise_phone  # noqa: E402
from ipt_groups.app import create_app  # noqa: E402
from ipt_groups.cycles.operations import start_cycle  # noqa: E402
from ipt_groups.extensions import db  # noqa: E402
from ipt_groups.messaging.base import SendResult  # noqa: E402
from ipt_groups.messaging.console import ConsoleSender  # noqa: E402
from ipt_groups.models import Enrolment, Facilitator, Group, Member  # noqa: E402
from ipt_groups.vocabulary import DAYS, PROBLEM_AREAS  # noqa: E402
from ipt_groups.worker import tick, worker_id  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
# Candidate zones, most likely first; those where it is daytime now are used.
ZONES = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Anchorage",
    "Pacific/Honolulu", "America/Sao_Paulo", "Europe/London", "Europe/Paris", "Europe/Athens",
    "Asia/Dubai", "Asia/Kolkata", "Asia/Bangkok", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney",
    "Pacific/Auckland",
)  # fmt: skip
SLOTS = ("17:00", "17:30", "18:00", "18:30", "19:00", "10:00")
TARGETS = {"create_s": 60.0, "tick_ms": 200.0, "stub_rate": 150.0, "rss_mb": 250.0, "late_slack_s": 5.0}


# --- database and app ---------------------------------------------------------------------------------


def build_app(url: str, **overrides):
    return create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url, **overrides)


def vacuum_messages(app) -> None:
    """VACUUM ANALYZE the outbox: rows made due by UPDATE leave dead tuples that time alone would not."""
    with app.app_context(), db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE) messages"))


# --- setup: roster in bulk ------------------------------------------------------------------------------


def daytime_zones(now: datetime, count: int = 4) -> list[str]:
    """Zones where it is 09:00-19:30 now: a 10-minute run stays clear of 21:00-08:00 quiet hours."""
    zones = [z for z in ZONES if 9 * 60 <= _local_minutes(now, z) < 19 * 60 + 30]
    return zones[:count]


def _local_minutes(now: datetime, zone: str) -> int:
    local = now.astimezone(ZoneInfo(zone))
    return local.hour * 60 + local.minute


def first_date(day: str, zone: str, now: datetime) -> date:
    """The group's weekday 14-20 days ahead, so even the pre-group meeting's reminders are future."""
    today = now.astimezone(ZoneInfo(zone)).date()
    return today + timedelta(days=(DAYS.index(day) - today.weekday()) % 7 + 14)


def group_spec(i: int, zones: list[str]) -> dict:
    return {
        "zone": zones[i % len(zones)],
        "day": DAYS[i % 7],
        "slot": SLOTS[(i // 7) % len(SLOTS)],
        "area": PROBLEM_AREAS[i % len(PROBLEM_AREAS)],
        "language": "es" if i % 5 == 4 else "en",
    }


def _window(spec: dict) -> list[dict]:
    hours, minutes = map(int, spec["slot"].split(":"))
    return [{"day": spec["day"], "start": spec["slot"], "end": f"{hours + 2:02d}:{minutes:02d}"}]


def insert_roster(specs: list[dict], members_per_group: int, now: datetime) -> list[int]:
    """Facilitators, groups, members and enrolments in bulk; returns the group ids in spec order."""
    fac_ids = _insert_ids(Facilitator, [_facilitator_row(i, s, now) for i, s in enumerate(specs)])
    group_rows = [_group_row(i, s, fac_ids[i], members_per_group, now) for i, s in enumerate(specs)]
    group_ids = _insert_ids(Group, group_rows)
    member_rows = [
        _member_row(g * members_per_group + k, s, now)
        for g, s in enumerate(specs)
        for k in range(members_per_group)
    ]
    member_ids = _insert_ids(Member, member_rows)
    enrolments = [
        {"group_id": group_ids[n // members_per_group], "member_id": m, "joined_on": now.date()}
        for n, m in enumerate(member_ids)
    ]
    db.session.execute(insert(Enrolment), enrolments)
    db.session.commit()
    return group_ids


def _insert_ids(model, rows: list[dict]) -> list[int]:
    stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(db.session.scalars(stmt, rows))


def _facilitator_row(i: int, spec: dict, now: datetime) -> dict:
    return {
        "name": f"Facilitator {i}",
        "phone": normalise_phone(f"+1202{3000000 + i:07d}", "US"),
        "email": f"f{i}@bench.example.org",
        "timezone": spec["zone"],
        "languages": [spec["language"]],
        "problem_areas": [spec["area"]],
        "availability": _window(spec),
        "max_groups": 2,
        "created_at": now,
        "updated_at": now,
    }


def _group_row(i: int, spec: dict, facilitator_id: int, size: int, now: datetime) -> dict:
    return {
        "name": f"Group {i}",
        "problem_area": spec["area"],
        "language": spec["language"],
        "timezone": spec["zone"],
        "day": spec["day"],
        "start_time": spec["slot"],
        "session_minutes": 90,
        "max_size": max(10, size),
        "status": "forming",
        "facilitator_id": facilitator_id,
        "created_at": now,
        "updated_at": now,
    }


def _member_row(n: int, spec: dict, now: datetime) -> dict:
    return {
        "name": f"Member {n}",
        "phone": normalise_phone(f"+1312{2000000 + n:07d}", "US"),
        "timezone": spec["zone"],
        "language": spec["language"],
        "age_band": "adult",
        "problem_area": spec["area"],
        "availability": _window(spec),
        "sms_consent": True,
        "sms_consent_at": now,
        "sms_consent_source": "benchmark intake form",
        "status": "enrolled",
        "waitlisted_at": now - timedelta(days=30),
        "created_at": now,
        "updated_at": now,
    }


# --- 1. cycle creation --------------------------------------------------------------------------------


def create_cycles(app, group_ids: list[int], specs: list[dict]) -> dict:
    """start_cycle for every group, one app context and one commit per group, as the API does."""
    per_group = []
    started = time.perf_counter()
    for gid, spec in zip(group_ids, specs, strict=True):
        t0 = time.perf_counter()
        with app.app_context():
            now = datetime.now(UTC)
            data = {"template": "ipt-g-12", "first_date": first_date(spec["day"], spec["zone"], now)}
            start_cycle(db.session.get(Group, gid), data, "bench", now)
            db.session.commit()
        per_group.append(time.perf_counter() - t0)
    total = time.perf_counter() - started
    return {"total_s": total, "p50_ms": 1000 * _pct(per_group, 50), "p99_ms": 1000 * _pct(per_group, 99)}


def outbox_counts(app) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(text("SELECT state, count(*) FROM messages GROUP BY state")).all()
    return dict(rows)


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# --- making rows due ------------------------------------------------------------------------------------


class DuePicker:
    """Seeded random samples of still-pending rows, disjoint across calls."""

    def __init__(self, app, seed: int) -> None:
        with app.app_context():
            ids = list(db.session.scalars(text("SELECT id FROM messages WHERE state = 'pending'")))
        random.Random(seed).shuffle(ids)
        self.app, self._ids = app, ids

    def make_due(self, due_times: list[datetime]) -> list[int]:
        """Give len(due_times) pending rows these due_at values (deadline, the start, stays later)."""
        picked, self._ids = self._ids[: len(due_times)], self._ids[len(due_times) :]
        with self.app.app_context():
            db.session.execute(
                text("UPDATE messages SET due_at = :due WHERE id = :id AND state = 'pending'"),
                [{"id": i, "due": d} for i, d in zip(picked, due_times, strict=True)],
            )
            db.session.commit()
        vacuum_messages(self.app)
        return picked


def spread(start: datetime, seconds: float, n: int, rng: random.Random) -> list[datetime]:
    return sorted(start + timedelta(seconds=rng.uniform(0, seconds)) for _ in range(n))


# --- statement timing and capture -----------------------------------------------------------------------


class StatementLog:
    """Time the tick's scans (expire, claim, expire_checkins) and keep their last SQL and parameters."""

    KINDS = {
        "claim": re.compile(r"^\s*WITH due AS"),
        "expire": re.compile(r"^UPDATE messages SET state.*deadline_at <=", re.S),
        "checkins": re.compile(r"^SELECT checkins\..*expires_at <=", re.S),
    }

    def __init__(self, engine) -> None:
        self.seconds: dict[str, list[float]] = {k: [] for k in self.KINDS}
        self.last: dict[str, tuple[str, dict]] = {}
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _kind(self, statement: str) -> str | None:
        return next((k for k, rx in self.KINDS.items() if rx.search(statement)), None)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        context._bench_t0 = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        kind = self._kind(statement)
        if kind:
            self.seconds[kind].append(time.perf_counter() - context._bench_t0)
            self.last[kind] = (statement, dict(parameters))


# --- senders ---------------------------------------------------------------------------------------------


class StubSender:
    """A provider that takes `delay` seconds per message; records the wall time each was handed over."""

    def __init__(self, delay: float = 0.005, prefix: str = "stub") -> None:
        self.delay, self.prefix = delay, prefix
        self.handed: dict[str, float] = {}
        self._lock = threading.Lock()

    def send(self, to: str, body: str, *, status_callback: str | None = None) -> SendResult:
        handed = time.time()
        time.sleep(self.delay)
        with self._lock:
            provider_id = f"{self.prefix}-{len(self.handed)}"
            self.handed[provider_id] = handed
        return SendResult(provider_id, "sent")


def devnull_console() -> ConsoleSender:
    return ConsoleSender(open(os.devnull, "w"))  # noqa: SIM115  (lives as long as the run)


# --- 2. one tick, and 3. throughput ---------------------------------------------------------------------


def timed_tick(app, sender, worker: str, log: StatementLog) -> dict:
    """One scheduler tick (ipt_groups.worker.tick, as the scheduler process runs it), timed."""
    marks = {k: len(v) for k, v in log.seconds.items()}
    t0 = time.perf_counter()
    stats = tick(app, sender, None, worker)
    wall = time.perf_counter() - t0
    if stats is None:
        raise RuntimeError("the tick failed (see the log)")
    scans = {k: sum(log.seconds[k][marks[k] :]) for k in marks}
    return {"wall_s": wall, "claimed": stats.claimed, "outcomes": stats.by_outcome, **scans}


def drain(app, sender, worker: str, log: StatementLog) -> list[dict]:
    """Tick back to back until a tick claims nothing (that last, empty tick is not kept)."""
    ticks = []
    while (t := timed_tick(app, sender, worker, log))["claimed"]:
        ticks.append(t)
    return ticks


def sent_kinds(app) -> dict[str, int]:
    with app.app_context():
        query = text("SELECT kind, count(*) FROM messages WHERE state = 'sent' GROUP BY kind")
        return dict(db.session.execute(query).all())


def throughput(ticks: list[dict]) -> float:
    return sum(t["claimed"] for t in ticks) / sum(t["wall_s"] for t in ticks)


def outcomes(ticks: list[dict]) -> dict[str, int]:
    total: dict[str, int] = {}
    for t in ticks:
        for k, v in t["outcomes"].items():
            total[k] = total.get(k, 0) + v
    return total


def prepared_plans(app) -> list[tuple]:
    """psycopg prepares a statement after 5 runs; PostgreSQL may then switch it to a generic plan."""
    with app.app_context():
        return db.session.execute(
            text(
                "SELECT left(regexp_replace(statement, '\\s+', ' ', 'g'), 60), generic_plans, custom_plans"
                " FROM pg_prepared_statements WHERE statement LIKE '%messages%'"
            )
        ).all()


# --- EXPLAIN ---------------------------------------------------------------------------------------------

STAT_COLUMNS = "seq_scan, seq_tup_read, idx_scan, idx_tup_fetch, n_tup_upd"


def explain(app, statement: str, params: dict, generic: bool, table: str) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) in a transaction that is rolled back; with the table's counters of
    rows read by this transaction. generic: PREPARE it and force the generic plan."""
    explain_one = _explain_generic if generic else _explain_custom
    with app.app_context(), db.engine.connect() as conn:
        trans = conn.begin()
        before = _xact_stats(conn, table)
        plan = explain_one(conn, statement, params)
        after = _xact_stats(conn, table)
        trans.rollback()
        if generic:
            # The rollback may already have dropped the prepared statement (it was made inside it).
            conn.exec_driver_sql(
                "SELECT 1 FROM pg_prepared_statements WHERE name = 'bench_plan'"
            ).first() and (conn.exec_driver_sql("DEALLOCATE bench_plan"))
            conn.commit()
    return {"plan": plan, "read": {k: after[k] - before[k] for k in after}}


def _explain_custom(conn, statement: str, params: dict) -> str:
    rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params).all()
    return "\n".join(r[0] for r in rows)


def _explain_generic(conn, statement: str, params: dict) -> str:
    import psycopg.sql

    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", statement)))
    numbered = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m.group(1)) + 1}", statement)
    raw = conn.connection.dbapi_connection
    args = ", ".join(psycopg.sql.Literal(params[n]).as_string(raw) for n in names)
    conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    conn.exec_driver_sql(f"PREPARE bench_plan AS {numbered}")
    rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_plan({args})").all()
    return "\n".join(r[0] for r in rows)


def _xact_stats(conn, table: str) -> dict[str, int]:
    query = text(f"SELECT {STAT_COLUMNS} FROM pg_stat_xact_user_tables WHERE relname = :t")
    row = conn.execute(query, {"t": table}).one()
    return {k: int(v or 0) for k, v in row._mapping.items()}


def with_now(params: dict, now: datetime) -> dict:
    """The captured parameters with every instant replaced by `now`."""
    return {k: now if isinstance(v, datetime) else v for k, v in params.items()}


# --- 4. lateness ------------------------------------------------------------------------------------------


def run_scheduled(app, sender: StubSender, worker: str, first_tick: datetime, expected: int, timeout: float):
    """The job of ipt_groups.worker.run_scheduler (same function and options) on APScheduler, with
    the stub sender and no pacer; returns when `expected` messages were handed over, or on timeout."""
    scheduler = BackgroundScheduler(timezone=UTC)
    scheduler.add_job(
        tick,
        "interval",
        seconds=app.config["SCHEDULER_TICK_SECONDS"],
        args=(app, sender, None, worker),
        id="dispatch",
        coalesce=True,
        max_instances=1,
        next_run_time=first_tick,
    )
    scheduler.start()
    deadline = time.monotonic() + timeout
    while len(sender.handed) < expected and time.monotonic() < deadline:
        time.sleep(0.2)
    scheduler.shutdown(wait=True)


def lateness(app, picker: DuePicker, worker: str, due_times, first_tick: datetime, prefix: str) -> dict:
    """Messages due at `due_times`, scheduler ticking from `first_tick`: handed-over minus due_at."""
    ids = picker.make_due(due_times)
    sender = StubSender(prefix=prefix)
    timeout = (max(due_times) - datetime.now(UTC)).total_seconds() + 6 * app.config["SCHEDULER_TICK_SECONDS"]
    run_scheduled(app, sender, worker, first_tick, len(ids), timeout)
    with app.app_context():
        rows = db.session.execute(
            text("SELECT provider_id, due_at, state FROM messages WHERE id = ANY(:ids)"), {"ids": ids}
        ).all()
    late = [sender.handed[p] - due.timestamp() for p, due, _s in rows if p in sender.handed]
    states = {}
    for *_r, s in rows:
        states[s] = states.get(s, 0) + 1
    return {"n": len(ids), "handed": len(late), "states": states, "p50": _pct(late, 50),
            "p99": _pct(late, 99), "max": max(late)}  # fmt: skip


# --- 5. memory --------------------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """This process image's peak RSS (VmHWM). Not ru_maxrss: Linux carries the parent's RSS at fork
    into a spawned child's ru_maxrss across exec, so a child of a big parent reads the parent's size."""
    with open("/proc/self/status") as status:
        line = next(x for x in status if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def _rss_child(url: str, queue) -> None:
    app = build_app(url)
    worker = worker_id()
    baseline = peak_rss_mb()
    sender, sent, ticks = devnull_console(), 0, 0
    while (stats := tick(app, sender, None, worker)) and stats.claimed:
        sent, ticks = sent + stats.claimed, ticks + 1
    for _ in range(5):  # and some empty ticks over the whole outbox
        tick(app, sender, None, worker)
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put({"baseline_mb": baseline, "peak_mb": peak_rss_mb(), "ru_maxrss_mb": maxrss, "sent": sent,
               "ticks": ticks + 5})  # fmt: skip


def scheduler_rss(url: str) -> dict:
    """Run ticks in a fresh process (the scheduler is a process of its own) and read its peak RSS."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_rss_child, args=(url, queue))
    child.start()
    out = queue.get()
    child.join()
    return out


# --- the run ----------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    ensure_database(args.url)
    overrides = {"DISPATCH_BATCH_SIZE": args.batch} if args.batch else {}
    app = build_app(args.url, **overrides)
    report = Report(app, args)
    report.setup_and_create()
    report.ticks_and_throughput()
    report.explains()
    report.stub_throughput()
    report.lateness_runs()
    report.memory()
    report.print()


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="SQLAlchemy URL of a PostgreSQL database")
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--members", type=int, default=8, help="members per group")
    parser.add_argument("--due", type=int, default=1000, help="rows due at once for the tick figures")
    parser.add_argument("--window", type=float, default=60.0, help="seconds over which rows fall due")
    parser.add_argument("--batch", type=int, default=0, help="override DISPATCH_BATCH_SIZE (0: config)")
    parser.add_argument("--seed", type=int, default=20261125)
    return parser.parse_args(argv)


class Report:
    """Runs each part in order and keeps the figures."""

    def __init__(self, app, args) -> None:
        self.app, self.args = app, args
        self.rng = random.Random(args.seed)
        self.worker = worker_id()
        self.fig: dict = {}
        self.plans: dict[str, dict] = {}

    def setup_and_create(self) -> None:
        self.fig["load_start"] = os.getloadavg()
        reset_schema(self.app)
        now = datetime.now(UTC)
        zones = daytime_zones(now)
        specs = [group_spec(i, zones) for i in range(self.args.groups)]
        t0 = time.perf_counter()
        with self.app.app_context():
            group_ids = insert_roster(specs, self.args.members, now)
        self.fig["setup_s"], self.fig["zones"] = time.perf_counter() - t0, zones
        self.fig["create"] = create_cycles(self.app, group_ids, specs)
        self.fig["outbox"] = outbox_counts(self.app)
        vacuum_messages(self.app)
        with self.app.app_context():
            self.log = StatementLog(db.engine)
        self.picker = DuePicker(self.app, self.args.seed)

    def ticks_and_throughput(self) -> None:
        sender = devnull_console()
        self.fig["empty_before"] = [timed_tick(self.app, sender, self.worker, self.log) for _ in range(3)]
        now = datetime.now(UTC)
        self.picker.make_due(spread(now - timedelta(seconds=60), 59, self.args.due, self.rng))
        self.fig["console_ticks"] = drain(self.app, sender, self.worker, self.log)
        self.fig["sent_kinds"] = sent_kinds(self.app)
        # Twenty empty ticks: long enough for psycopg to prepare the scans and PostgreSQL to pick a plan.
        self.fig["empty"] = [timed_tick(self.app, sender, self.worker, self.log) for _ in range(20)]
        self.fig["prepared"] = prepared_plans(self.app)

    def explains(self) -> None:
        now = datetime.now(UTC)
        self.stub_ids = self.picker.make_due(spread(now - timedelta(seconds=60), 59, self.args.due, self.rng))
        now = datetime.now(UTC)
        for kind, table in (("claim", "messages"), ("expire", "messages"), ("checkins", "checkins")):
            statement, params = self.log.last[kind]
            for generic in (False, True):
                self.plans[f"{kind}{' (generic plan)' if generic else ''}"] = explain(
                    self.app, statement, with_now(params, now), generic, table
                )

    def stub_throughput(self) -> None:
        self.fig["stub_ticks"] = drain(self.app, StubSender(prefix="thr"), self.worker, self.log)

    def lateness_runs(self) -> None:
        interval = self.app.config["SCHEDULER_TICK_SECONDS"]
        first = datetime.now(UTC) + timedelta(seconds=20)  # after the UPDATE and VACUUM below
        due = spread(first, self.args.window, self.args.due, self.rng)
        self.fig["window"] = self.args.window
        self.fig["late_spread"] = lateness(self.app, self.picker, self.worker, due, first, "spread")
        first = datetime.now(UTC) + timedelta(seconds=20)
        burst = [first + timedelta(seconds=interval / 2)] * self.args.due
        self.fig["late_burst"] = lateness(self.app, self.picker, self.worker, burst, first, "burst")

    def memory(self) -> None:
        self.picker.make_due(spread(datetime.now(UTC) - timedelta(seconds=60), 59, self.args.due, self.rng))
        self.fig["rss"] = scheduler_rss(self.args.url)

    def print(self) -> None:
        self.fig["load_end"] = os.getloadavg()
        print_report(self.app, self.args, self.fig, self.plans)


def print_report(app, args, fig: dict, plans: dict) -> None:
    interval = app.config["SCHEDULER_TICK_SECONDS"]
    batch = app.config["DISPATCH_BATCH_SIZE"]
    print(f"groups {args.groups} x members {args.members}; zones {', '.join(fig['zones'])}")
    print(f"roster setup (bulk, untimed): {fig['setup_s']:.1f} s; outbox after creation: {fig['outbox']}")
    print(f"tick interval {interval} s, DISPATCH_BATCH_SIZE {batch}, pacer off")
    print(f"load average (1, 5, 15 min) at start {fig['load_start']}, at end {fig['load_end']}\n")
    for line in result_rows(fig, interval, plans):
        print("| " + " | ".join(line) + " |")
    print_details(fig, plans)


def result_rows(fig: dict, interval: int, plans: dict) -> list[list[str]]:
    c, t, first = fig["create"], TARGETS, fig["console_ticks"][0]
    empty_ms = statistics.median(e["wall_s"] for e in fig["empty"]) * 1000
    scan_ms = (first["claim"] + first["expire"] + first["checkins"]) * 1000
    stub, con = throughput(fig["stub_ticks"]), throughput(fig["console_ticks"])
    ls, lb, rss = fig["late_spread"], fig["late_burst"], fig["rss"]
    late = f"p99 ≤ {interval + t['late_slack_s']:.0f} s"
    n = first["claimed"]
    return [
        ["figure", "measured", "target", "met?"],
        ["---", "---", "---", "---"],
        _row(
            "create all cycles (start_cycle, a commit per group)",
            f"{c['total_s']:.1f} s (a group: p50 {c['p50_ms']:.0f} ms, p99 {c['p99_ms']:.0f} ms)",
            "≤ 60 s",
            c["total_s"] <= t["create_s"],
        ),
        _row(f"tick claiming {n}: its scans (expire, checkins, claim)", f"{scan_ms:.1f} ms", "≤ 200 ms",
             scan_ms <= t["tick_ms"]),
        _row(f"tick claiming {n}: whole tick, sending by console", f"{first['wall_s'] * 1000:.0f} ms",
             "≤ 200 ms", first["wall_s"] * 1000 <= t["tick_ms"]),
        *[_read_row(name, plans[name]) for name in ("claim", "expire", "checkins")],
        _row("tick with nothing due (median of 20)", f"{empty_ms:.1f} ms", "≤ 200 ms",
             empty_ms <= t["tick_ms"]),
        ["send throughput, console to /dev/null", f"{con:.0f} msg/s", "-", "-"],
        _row("send throughput, 5 ms stub", f"{stub:.0f} msg/s", "≥ 150 msg/s", stub >= t["stub_rate"]),
        _row(f"lateness, {ls['n']} due over {fig['window']:.0f} s: p50 / p99",
             f"{ls['p50']:.1f} / {ls['p99']:.1f} s", late, ls["p99"] <= interval + t["late_slack_s"]),
        _row(f"lateness, {lb['n']} due at one instant: p50 / p99",
             f"{lb['p50']:.1f} / {lb['p99']:.1f} s", late, lb["p99"] <= interval + t["late_slack_s"]),
        _row("scheduler peak RSS (VmHWM of a child process)",
             f"{rss['peak_mb']:.0f} MB (after start-up {rss['baseline_mb']:.0f} MB)", "< 250 MB",
             rss["peak_mb"] < t["rss_mb"]),
    ]  # fmt: skip


def _row(figure: str, measured: str, target: str, ok: bool) -> list[str]:
    return [figure, measured, target, "yes" if ok else "**no**"]


def _read_row(name: str, plan: dict) -> list[str]:
    r = plan["read"]
    measured = f"{r['seq_tup_read']} by seq scan, {r['idx_tup_fetch']} by index ({r['n_tup_upd']} updated)"
    return _row(f"{name}: rows read (EXPLAIN ANALYZE)", measured, "due rows only", r["seq_scan"] == 0)


def print_details(fig: dict, plans: dict) -> None:
    print("\nconsole ticks:", [_tick_line(t) for t in fig["console_ticks"]])
    print("stub ticks:   ", [_tick_line(t) for t in fig["stub_ticks"]])
    print("empty ticks before any due (ms):", [round(t["wall_s"] * 1000, 1) for t in fig["empty_before"]])
    print("empty ticks after (ms):", [round(t["wall_s"] * 1000, 1) for t in fig["empty"]])
    print("prepared statements on the dispatcher's connection (statement, generic, custom):")
    for row in fig["prepared"]:
        print("   ", tuple(row))
    print("outcomes: console", outcomes(fig["console_ticks"]), "stub", outcomes(fig["stub_ticks"]))
    print("kinds sent by the console ticks:", fig["sent_kinds"])
    for key in ("late_spread", "late_burst"):
        print(key, {k: (round(v, 2) if isinstance(v, float) else v) for k, v in fig[key].items()})
    print("rss child:", fig["rss"])
    for name, p in plans.items():
        print(f"\n### EXPLAIN (ANALYZE, BUFFERS): {name}")
        print(f"rows read by the statement (pg_stat_xact_user_tables): {p['read']}\n")
        print(p["plan"])


def _tick_line(t: dict) -> str:
    return (
        f"{t['claimed']} in {t['wall_s'] * 1000:.0f} ms"
        f" (expire {t['expire'] * 1000:.1f} ms, checkins {t['checkins'] * 1000:.1f} ms,"
        f" claim {t['claim'] * 1000:.1f} ms)"
    )


if __name__ == "__main__":
    main()
