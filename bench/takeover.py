"""Standby takeover: two (or more) real scheduler processes, the lock holder killed with SIGKILL, and the
time until another leads (its heartbeat row's `leader_since`) and has run its first leading tick (the
work that runs once: escalations, expiry, recovery of the dead one's claims). Messages due during the
run are sent by the console backend; each one's body is checked to leave at most once and every row to
end sent (or `unknown`, if the kill caught it mid-send).

    python bench/takeover.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench_takeover --trials 5
    python bench/takeover.py --url sqlite:////tmp/takeover.sqlite3 --trials 3

Figures in docs/BENCHMARKS.md. The database is migrated (and emptied) at the start of every trial.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from config import TestingConfig  # noqa: E402
from ipt_groups.app import create_app  # noqa: E402
from ipt_groups.extensions import db  # noqa: E402
from ipt_groups.messaging.outbox import plan_messages  # noqa: E402
from ipt_groups.models import Message, SchedulerWorker  # noqa: E402
from ipt_groups.people.roster import create_member  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NO_QUIET_HOURS = "00:00-00:00"
SENT_LINE = re.compile(r"\[sms console-\w+\] to \S+: (takeover \d+)")


def build_app(url: str):
    return create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url, QUIET_HOURS=NO_QUIET_HOURS)


def reset(app) -> None:
    """An empty, migrated database."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        else:
            db.drop_all()
            with db.engine.begin() as conn:
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()


def plan(app, messages: int, spread_s: float) -> None:
    """A member, and `messages` texts due over the next `spread_s` seconds."""
    now = datetime.now(UTC)
    with app.app_context():
        member = create_member(_member(), "bench", now)
        db.session.flush()
        rows = [
            {"dedupe_key": f"takeover:{i}", "kind": "custom", "member_id": member.id,
             "due_at": now + timedelta(seconds=spread_s * i / max(messages, 1)),
             "context": {"body": f"takeover {i}"}}
            for i in range(messages)
        ]  # fmt: skip
        plan_messages(rows)
        db.session.commit()


def _member() -> dict:
    who = {"name": "Bench Member", "phone": "+13125550199", "timezone": "UTC", "language": "en"}
    return who | {
        "problem_area": "grief",
        "availability": [],
        "sms_consent": True,
        "sms_consent_source": "bench",
    }


def scheduler_env(url: str, tick_s: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SMS_", "FLASK_", "TEST_"))}
    return env | {
        "APP_ENV": "development",
        "DATABASE_URL": url,
        "SMS_BACKEND": "console",
        "SMS_RATE_PER_S": "0",
        "SCHEDULER_TICK_SECONDS": str(tick_s),
        "QUIET_HOURS": NO_QUIET_HOURS,
        "PYTHONUNBUFFERED": "1",
    }


def spawn(env: dict, log: Path) -> subprocess.Popen:
    with open(log, "w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "ipt", "scheduler"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def workers(app) -> dict[str, SchedulerWorker]:
    with app.app_context():
        rows = {w.worker: w for w in db.session.scalars(select(SchedulerWorker))}
        db.session.remove()
    return rows


def _wait(predicate, timeout_s: float, what: str):
    until = time.monotonic() + timeout_s
    while time.monotonic() < until:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    raise TimeoutError(f"waited {timeout_s} s for {what}")


def trial(url: str, tick_s: int, processes: int, messages: int, workdir: Path) -> dict:
    """One takeover: start the processes, wait for a leader, kill it, time the next one."""
    app = build_app(url)
    reset(app)
    plan(app, messages, spread_s=6 * tick_s)
    env = scheduler_env(url, tick_s)
    procs = {}
    try:
        for n in range(processes):
            proc = spawn(env, workdir / f"scheduler-{n}.log")
            procs[proc.pid] = proc
        leader = _wait(lambda: _leader(app, procs), 90, "a leader")
        _wait(lambda: len(_live(app, procs)) == processes, 90, "every process beating")
        time.sleep(tick_s * 1.5)  # mid-work: the messages are being sent
        killed_at = datetime.now(UTC)
        procs[leader].send_signal(signal.SIGKILL)
        procs[leader].wait()
        new = _wait(lambda: _leader(app, procs, since=killed_at), 30 * tick_s, "a new leader")
        row = _wait(lambda: _leading_tick(app, new, killed_at), 30 * tick_s, "its first leading tick")
        _wait(lambda: _drained(app), 60 * tick_s, "the outbox to drain")
        figures = {
            "takeover_s": (row.leader_since - killed_at).total_seconds(),
            "first_leading_tick_s": (row.ticked_at - killed_at).total_seconds(),
        }
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return figures | account(app, workdir, messages)


def _pid(worker: str) -> int:
    return int(worker.rsplit(":", 1)[1])


def _live(app, procs) -> dict[str, SchedulerWorker]:
    return {w: row for w, row in workers(app).items() if _pid(w) in procs and procs[_pid(w)].poll() is None}


def _leader(app, procs, since: datetime | None = None):
    for worker, row in _live(app, procs).items():
        if row.leader_since is not None and (since is None or row.leader_since > since):
            return _pid(worker)
    return None


def _leading_tick(app, pid: int, after: datetime):
    for worker, row in workers(app).items():
        if (
            _pid(worker) == pid
            and row.ticked_at
            and row.leader_since
            and row.ticked_at >= row.leader_since > after
        ):
            return row
    return None


def _drained(app) -> bool:
    with app.app_context():
        open_rows = db.session.scalar(
            select(db.func.count()).select_from(Message).where(Message.state.in_(("pending", "sending")))
        )
        db.session.remove()
    return open_rows == 0


def account(app, workdir: Path, messages: int) -> dict:
    """Every body printed at most once; every row sent, or unknown (the kill caught it mid-send)."""
    printed = [m for log in workdir.glob("scheduler-*.log") for m in SENT_LINE.findall(log.read_text())]
    with app.app_context():
        states = dict(
            db.session.execute(select(Message.state, db.func.count()).group_by(Message.state)).all()
        )
        db.session.remove()
        db.engine.dispose()
    duplicates = sorted({b for b in printed if printed.count(b) > 1})
    return {"planned": messages, "states": states, "printed": len(printed), "duplicates": duplicates}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_takeover")
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--tick", type=int, default=5, help="SCHEDULER_TICK_SECONDS")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args(argv)
    if args.url.startswith("postgres"):
        from pgdb import ensure_database

        ensure_database(args.url)
    results = []
    for n in range(args.trials):
        workdir = Path(tempfile.mkdtemp(prefix=f"takeover-{n}-"))
        results.append(trial(args.url, args.tick, args.processes, args.messages, workdir))
        print(json.dumps(results[-1]), flush=True)
    takeovers = [r["takeover_s"] for r in results]
    ticks = [r["first_leading_tick_s"] for r in results]
    print(f"tick {args.tick} s, {args.processes} processes, {args.trials} trials, load {os.getloadavg()}")
    print(f"takeover (lock taken): median {statistics.median(takeovers):.2f} s, max {max(takeovers):.2f} s")
    print(f"first leading tick: median {statistics.median(ticks):.2f} s, max {max(ticks):.2f} s")
    ok = all(not r["duplicates"] and set(r["states"]) <= {"sent", "unknown"} for r in results)
    print("exactly once: " + ("yes" if ok else "NO"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
