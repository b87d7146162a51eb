"""Reconciling a group's planned messages after a change, on PostgreSQL.

1. One group of 20 sessions (wilfley-20) and 12 members: a session moved back and forth, timed as a
   whole (the move and its reconcile, one transaction) and the reconcile alone (p50, p95, max).
2. A programme-wide change: QUIET_HOURS changed for 1,000 groups (12 sessions, 8 members each), re-planned
   by `reconcile_all` in batches, while a dispatcher ticks every second in another thread on its own
   connection, sending texts that fall due every second meanwhile: how late each tick began, how long
   each took, before and during the re-plan.

    .venv/bin/python bench/reconcile.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench13

The database is reset and migrated first (it must be a benchmark's own).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pgdb import ensure_database, reset_schema  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from config import TestingConfig  # noqa: E402
from ipt_groups.app import create_app  # noqa: E402
from ipt_groups.cycles import operations  # noqa: E402
from ipt_groups.cycles.reconcile import reconcile_all  # noqa: E402
from ipt_groups.extensions import db  # noqa: E402
from ipt_groups.groups.operations import create_group, enrol_member  # noqa: E402
from ipt_groups.messaging.base import RecordingSender  # noqa: E402
from ipt_groups.messaging.dispatch import run_tick  # noqa: E402
from ipt_groups.messaging.outbox import plan_messages  # noqa: E402
from ipt_groups.models import GroupSession, Message  # noqa: E402
from ipt_groups.people.roster import create_facilitator, create_member  # noqa: E402
from ipt_groups.worker import dispatch_settings  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench13"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
FIRST = date(2026, 12, 1)  # a Tuesday
ZONES = ("America/Chicago", "America/New_York", "Europe/Madrid", "America/Bogota")
_serial = iter(range(1, 10**7))


def _facilitator(tz: str):
    n = next(_serial)
    return create_facilitator(
        {
            "name": f"F {n}",
            "phone": f"+1202{n:07d}",
            "email": f"f{n}@example.org",
            "timezone": tz,
            "languages": ["en"],
            "problem_areas": [],
            "availability": [],
            "max_groups": 3,
        },
        "bench",
        NOW,
    )


def _member(tz: str):
    n = next(_serial)
    return create_member(
        {
            "name": f"Member {n}",
            "phone": f"+1312{n:07d}",
            "timezone": tz,
            "language": "en",
            "age_band": "adult",
            "problem_area": "grief",
            "availability": [],
            "sms_consent": True,
            "sms_consent_source": "bench",
        },
        "bench",
        NOW,
    )


def make_group(template: str, members: int, tz: str):
    lead = _facilitator(tz)
    group = create_group(
        {
            "name": "G",
            "problem_area": "grief",
            "language": "en",
            "day": "tue",
            "start_time": "18:00",
            "facilitator_id": lead.id,
            "timezone": tz,
            "max_size": max(members, 10),
        },
        "bench",
        NOW,
    )
    for i in range(members):
        enrol_member(group, _member(ZONES[i % len(ZONES)]), {}, "bench", NOW)
    operations.start_cycle(group, {"first_date": FIRST, "template": template}, "bench", NOW)
    return group


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def one_group(app, runs: int) -> dict:
    """A session moved back and forth: the whole move (one transaction, committed) and, inside it, the
    reconcile that follows the change (timed by wrapping the operation's call to it)."""
    inside: list[float] = []
    real = operations.reconcile_group

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            inside.append((time.perf_counter() - started) * 1000)

    with app.app_context():
        group = make_group("wilfley-20", 12, "America/Chicago")
        db.session.commit()
        count = select(func.count()).select_from(Message).where(Message.group_id == group.id)
        rows = db.session.scalar(count)
        whole, steady = [], []
        session = GroupSession.query.filter_by(group_id=group.id, number=10).one()
        days = (session.local_date, session.local_date + timedelta(days=2))
        operations.reconcile_group = timed
        try:
            for i in range(runs):
                started = time.perf_counter()
                operations.move_session(session, days[(i + 1) % 2], "18:00", "bench", NOW)
                db.session.commit()
                whole.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                real(group.id, NOW, "bench")  # nothing changed since: the steady-state cost
                db.session.commit()
                steady.append((time.perf_counter() - started) * 1000)
        finally:
            operations.reconcile_group = real
    return {"rows": rows, "move": whole, "reconcile": inside, "unchanged": steady}


def programme(app, groups: int, members: int, batch: int, rate: int) -> dict:
    with app.app_context():
        started = time.perf_counter()
        for i in range(groups):
            make_group("ipt-g-12", members, ZONES[i % len(ZONES)])
            if i % 50 == 49:
                db.session.commit()
            if i in (50, 200, 500):  # as autovacuum would while the programme grows
                db.session.execute(text("ANALYZE messages"))
        db.session.commit()
        build_s = time.perf_counter() - started
        with db.engine.connect() as conn:  # what autovacuum does on a live database: fresh statistics
            conn.execute(text("ANALYZE"))
            conn.commit()
        rows = db.session.scalar(select(func.count()).select_from(Message))
        # a steady trickle of texts falling due while the re-plan runs: `rate` a second for two minutes
        origin = datetime.now(UTC) + timedelta(seconds=5)
        plan_messages(
            [
                {
                    "dedupe_key": f"bench-due-{i}",
                    "kind": "operator_alert",
                    "to_phone": "+12025550999",
                    "due_at": origin + timedelta(seconds=i / rate),
                    "context": {"body": "bench"},
                }
                for i in range(rate * 120)
            ]
        )
        db.session.commit()

    ticks: list[tuple[float, float, float, int]] = []  # (began, lateness s, duration s, claimed)
    stop = threading.Event()

    def dispatcher():
        """A scheduler's ticks, every second: the next is due a second after the last was due, or at once
        if that tick ran over (as APScheduler coalesces); lateness is how long past due a tick began."""
        with app.app_context():
            settings = dispatch_settings("bench-dispatcher")
            sender = RecordingSender()
            due_at = time.perf_counter() + 1.0
            while not stop.is_set():
                while (gap := due_at - time.perf_counter()) > 0 and not stop.is_set():
                    time.sleep(min(gap, 0.01))
                begun = time.perf_counter()
                stats = run_tick(sender, datetime.now(UTC), settings)
                ended = time.perf_counter()
                ticks.append((begun, begun - due_at, ended - begun, stats.claimed))
                db.session.remove()
                due_at = max(due_at + 1.0, ended)

    thread = threading.Thread(target=dispatcher, daemon=True)
    with app.app_context():
        app.config["QUIET_HOURS"] = "15:00-19:30"  # every 2 h and 24 h reminder of an 18:00 slot moves
        thread.start()
        time.sleep(10)  # ticks before the re-plan, as a baseline
        started = time.perf_counter()
        done = reconcile_all(NOW, "quiet hours changed", batch=batch)
        ended = time.perf_counter()
        time.sleep(5)
        stop.set()
        thread.join()
    return {
        "build_s": build_s,
        "rows": rows,
        "replan_s": ended - started,
        "outcome": done,
        "before": [t for t in ticks if t[0] < started],
        "during": [t for t in ticks if started <= t[0] <= ended],
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--runs", type=int, default=200, help="timed moves of the one group")
    parser.add_argument("--groups", type=int, default=1000, help="0: the one group only")
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument("--batch", type=int, default=25, help="groups per transaction")
    parser.add_argument("--rate", type=int, default=20, help="texts falling due per second meanwhile")
    args = parser.parse_args(argv)
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    ensure_database(args.url)
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=args.url, FIXED_NOW=NOW, DISPATCH_THREADS=1)
    reset_schema(app)
    one = one_group(app, args.runs)
    print(f"load average at start: {load}")
    print(f"one group (20 sessions, 12 members, {one['rows']} planned rows), {args.runs} moves:")
    for name in ("move", "reconcile", "unchanged"):
        v = one[name]
        p50, p95 = statistics.median(v), pct(v, 0.95)
        print(f"  {name:9s} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  max {max(v):6.2f} ms")
    if args.groups == 0:
        return
    big = programme(app, args.groups, args.members, args.batch, args.rate)
    o = big["outcome"]
    print(
        f"programme: {args.groups} groups x {args.members} members, {big['rows']} planned rows "
        f"(built in {big['build_s']:.0f} s)"
    )
    print(
        f"  quiet hours re-plan: {big['replan_s']:.1f} s in batches of {args.batch} "
        f"(kept {o.kept}, updated {o.updated}, added {o.added}, cancelled {o.cancelled})"
    )
    for name in ("before", "during"):
        ticks = big[name]
        late = [t[1] * 1000 for t in ticks]
        took = [t[2] * 1000 for t in ticks]
        print(
            f"  dispatcher {name} the re-plan: {len(ticks)} ticks, claimed {sum(t[3] for t in ticks)}; "
            f"lateness p50 {statistics.median(late):.0f} ms, max {max(late):.0f} ms; "
            f"tick p50 {statistics.median(took):.0f} ms, max {max(took):.0f} ms"
        )
    print(f"load average at end: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
