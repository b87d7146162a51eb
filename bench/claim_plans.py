"""The claim at millions of pending rows, under each plan PostgreSQL may pick: the custom plan (what
psycopg's first five executions get), the generic plan (what a prepared statement may switch to after
them: it cannot see the LIMIT or the instant), and the claim as the dispatcher runs it, prepared and
executed many times. Rows read come from pg_stat_xact_user_tables; each EXPLAIN is rolled back.

    python bench/claim_plans.py --rows 3000000 --due 1000      # about 3 minutes to build the outbox

The database (default bench_claim_plans) is created, migrated and filled at the start, dropped at the end
unless --keep. Figures in docs/bench-claim-plans.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pgdb import drop_database, ensure_database, reset_schema  # noqa: E402
from scheduling import explain  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.dialects import postgresql  # noqa: E402

from config import TestingConfig  # noqa: E402
from ipt_groups.app import create_app  # noqa: E402
from ipt_groups.extensions import db  # noqa: E402
from ipt_groups.messaging.outbox import claim_due, claim_statement  # noqa: E402

FILL = """
INSERT INTO messages (dedupe_key, kind, to_phone, context, due_at, deadline_at, state, attempts,
                      created_at, updated_at)
SELECT 'fill:' || g, CASE WHEN g % 3 = 0 THEN 'reminder_24h' ELSE 'checkin' END, '+13125550199', '{}',
       now() + interval '1 hour' + (g % 2000000) * interval '3 seconds', NULL, 'pending', 0, now(), now()
FROM generate_series(1, :rows) AS g
"""
DUE = """
UPDATE messages SET due_at = now() - interval '1 minute' - (id % 600) * interval '1 second'
WHERE id IN (SELECT id FROM messages ORDER BY random() LIMIT :due)
"""


def fill(app, rows: int, due: int) -> float:
    started = time.monotonic()
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text(FILL), {"rows": rows})
        conn.execute(text(DUE), {"due": due})
    with app.app_context(), db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE) messages"))
    return time.monotonic() - started


def compiled(now: datetime, limit: int) -> tuple[str, dict]:
    stmt = claim_statement(now, "bench", limit).compile(dialect=postgresql.psycopg.dialect())
    return str(stmt), {**stmt.params, "updated_at": now}  # onupdate: filled when executed


def summary(result: dict) -> str:
    plan, read = result["plan"], result["read"]
    lines = plan.splitlines()
    took = next((line for line in reversed(lines) if "Execution Time" in line), "").strip()
    scans = ", ".join(line.strip().split("  (")[0].lstrip("-> ") for line in lines if "Scan" in line)
    return f"{took}; seq rows read {read['seq_tup_read']}, index fetches {read['idx_tup_fetch']}; {scans}"


def claims_as_run(app, limit: int, runs: int) -> list[float]:
    """The dispatcher's own claim_due, `runs` times, rolled back each time so every run sees the same
    due rows (with its 500 claimed rows' updates, so slower than the claim's scan alone)."""
    times = []
    with app.app_context():
        for _ in range(runs):
            started = time.perf_counter()
            with _rolled_back():
                claim_due(datetime.now(UTC), "bench", limit)
                times.append(time.perf_counter() - started)
        db.session.remove()
    return times


class _rolled_back:
    """claim_due commits: here its commit does nothing and the block ends in a rollback."""

    def __enter__(self):
        self.commit = db.session.commit
        db.session.commit = lambda: None

    def __exit__(self, *exc):
        db.session.commit = self.commit
        db.session.rollback()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_claim_plans")
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    print(f"load average at start {os.getloadavg()}")
    ensure_database(args.url)
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=args.url)
    try:
        reset_schema(app)
        took = fill(app, args.rows, args.due)
        print(f"outbox: {args.rows} pending rows, {args.due} due; built in {took:.0f} s")
        statement, params = compiled(datetime.now(UTC), args.batch)
        for generic in (False, True):
            result = explain(app, statement, params, generic, "messages")
            print(f"{'generic' if generic else 'custom'} plan: {summary(result)}")
            print(result["plan"])
        times = claims_as_run(app, args.batch, args.runs)
        later = statistics.median(times[5:]) * 1000
        print(f"claim_due x{args.runs}: median {statistics.median(times) * 1000:.1f} ms, max "
              f"{max(times) * 1000:.1f} ms (runs 6 and after, prepared: median {later:.1f} ms)")  # fmt: skip
    finally:
        with app.app_context():
            db.engine.dispose()
        if not args.keep:
            drop_database(args.url)
    print(f"load average at end {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
