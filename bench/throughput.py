"""Messages per second through 1, 2 and 4 scheduler processes, sending through the official Twilio
client to a local stand-in that answers every request in 200 ms (a realistic provider latency) and
never fails. A burst of messages to many members falls due at once; the figure is the stand-in's own
count of acceptances per second, from the first to the last.

    python bench/throughput.py --messages 2000                # about 5 minutes
    python bench/throughput.py --messages 300 --processes 1 2  # a quick one

Unpaced (SMS_RATE_PER_S=0): the pacer is per process, so with N processes the account sees N times
SMS_RATE_PER_S (docs/OPERATIONS.md). The database (default bench_throughput) is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from faults_standin import Faults, Ledger, StandIn  # noqa: E402
from pgdb import drop_database, ensure_database, reset_schema  # noqa: E402
from sqlalchemy import delete, func, select  # noqa: E402

from config import TestingConfig  # noqa: E402
from ipt_groups.app import create_app  # noqa: E402
from ipt_groups.extensions import db  # noqa: E402
from ipt_groups.messaging.outbox import plan_messages  # noqa: E402
from ipt_groups.models import Member, Message, SchedulerWorker  # noqa: E402
from ipt_groups.people.roster import create_member  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NO_QUIET_HOURS = "00:00-00:00"


def members(app, n: int) -> list[int]:
    """`n` consenting members in UTC (one lane each message's recipient: they spread over threads)."""
    now = datetime.now(UTC)
    with app.app_context():
        for i in range(n):
            who = {"name": f"M {i}", "phone": f"+1312555{i:04d}", "timezone": "UTC", "language": "en"}
            consent = {"sms_consent": True, "sms_consent_source": "bench"}
            create_member(who | consent | {"problem_area": "grief", "availability": []}, "bench", now)
        db.session.commit()
        return list(db.session.scalars(select(Member.id)))


def burst(app, member_ids: list[int], messages: int) -> datetime:
    """`messages` texts due now, round-robin over the members; the outbox emptied first."""
    due = datetime.now(UTC)
    with app.app_context():
        db.session.execute(delete(Message))
        db.session.execute(delete(SchedulerWorker))
        rows = [
            {"dedupe_key": f"burst:{due.timestamp()}:{i}", "kind": "custom", "due_at": due,
             "member_id": member_ids[i % len(member_ids)], "context": {"body": f"burst {i}"}}
            for i in range(messages)
        ]  # fmt: skip
        plan_messages(rows)
        db.session.commit()
    return due


def env_for(url: str, standin_url: str, tick_s: int, batch: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SMS_", "FLASK_", "TEST_"))}
    return env | {
        "APP_ENV": "development", "DATABASE_URL": url, "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": "AC" + "f0" * 16, "TWILIO_AUTH_TOKEN": "bench",
        "TWILIO_MESSAGING_SERVICE_SID": "MG" + "f1" * 16,
        "TWILIO_API_URL": standin_url, "TWILIO_TIMEOUT_S": "5", "SMS_RATE_PER_S": "0",
        "SCHEDULER_TICK_SECONDS": str(tick_s), "QUIET_HOURS": NO_QUIET_HOURS, "PYTHONUNBUFFERED": "1",
        "DISPATCH_BATCH_SIZE": str(batch),
    }  # fmt: skip


def run(app, url: str, processes: int, member_ids: list[int], messages: int, opts, workdir: Path) -> dict:
    """One burst through `processes` schedulers; the stand-in's acceptances per second."""
    ledger = Ledger(str(workdir / f"ledger-{processes}.sqlite3"))
    standin = StandIn(ledger, Faults(p500=0, p429=0, p_late_accept=0, p_late_reject=0, latency_s=0.2)).start()
    env = env_for(url, standin.url, opts.tick, opts.batch)
    procs = []
    try:
        burst(app, member_ids, messages)
        for n in range(processes):
            command = [sys.executable, "-m", "flask", "--app", "wsgi", "ipt", "scheduler"]
            with open(workdir / f"scheduler-{processes}-{n}.log", "w") as log:
                procs.append(
                    subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
                )
        deadline = time.monotonic() + 30 + messages / 5
        while time.monotonic() < deadline and len(ledger.accepted()) < messages:
            time.sleep(0.5)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=60)
        standin.stop()
    times = [row[1] for row in ledger.accepted()]
    ledger.close()
    with app.app_context():
        states = dict(db.session.execute(select(Message.state, func.count()).group_by(Message.state)).all())
        db.session.remove()
    span = max(times) - min(times) if len(times) > 1 else float("nan")
    return {"processes": processes, "accepted": len(times), "states": states, "span_s": round(span, 1),
            "per_s": round((len(times) - 1) / span, 1) if span else None}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_throughput")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--members", type=int, default=400)
    parser.add_argument("--tick", type=int, default=5)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument(
        "--batch", type=int, default=500, help="DISPATCH_BATCH_SIZE: rows a process claims at once"
    )
    args = parser.parse_args(argv)
    print(f"load average at start {os.getloadavg()}", flush=True)
    ensure_database(args.url)
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=args.url, QUIET_HOURS=NO_QUIET_HOURS)
    workdir = Path(tempfile.mkdtemp(prefix="throughput-"))
    try:
        reset_schema(app)
        member_ids = members(app, args.members)
        for n in args.processes:
            print(
                run(app, args.url, n, member_ids, args.messages, args, workdir) | {"batch": args.batch},
                flush=True,
            )
    finally:
        with app.app_context():
            db.engine.dispose()
        drop_database(args.url)
    print(f"load average at end {os.getloadavg()}; logs in {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
