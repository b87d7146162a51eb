"""Safety texts committed while a long tick sends reminders (issue 11's review, finding 11): a real
`ipt scheduler` on PostgreSQL, a Twilio stand-in that accepts everything, `--reminders` due at once
(paced at SMS_RATE_PER_S, so the tick lasts reminders/rate seconds), and two alerts committed during
the tick (a member's after `--first` reminders were accepted, a stranger's after `--second`). Prints,
per safety text, the time from the alert's commit to the stand-in's acceptance, and how many reminders
went out in between. `--old-wake` runs the scheduler with the wake-up that waited for the tick's lock
(before the fix), for comparison.

    .venv/bin/python bench/wake_during_tick.py --database postgresql+psycopg://postgres@127.0.0.1/DB

The database is emptied (its public schema dropped) and migrated first: never point it at one in use.
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

from flask_migrate import upgrade
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.faults_standin import Faults, Ledger, StandIn  # noqa: E402
from config import TestingConfig  # noqa: E402
from ipt_groups.app import create_app  # noqa: E402
from ipt_groups.checkins.alerts import raise_safety_alert  # noqa: E402
from ipt_groups.extensions import db  # noqa: E402
from ipt_groups.groups.operations import create_group, enrol_member  # noqa: E402
from ipt_groups.messaging.outbox import plan_messages  # noqa: E402
from ipt_groups.models import Member  # noqa: E402
from ipt_groups.people.roster import create_facilitator, create_member  # noqa: E402

ACTOR = "bench:wake"
ONCALL, STRANGER = "+12025550999", "+13125559999"
OLD_WAKE = """
import logging, sys
from ipt_groups import worker
def wake(self, payload=None):  # before the fix: waits for the tick's lock
    self.woken.set()
    with self.lock:
        self._serve()
worker.Dispatcher.wake = wake
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
from wsgi import app
worker.run_scheduler(app)
"""


def main() -> None:
    args = _arguments()
    ledger = Ledger(str(Path(tempfile.mkdtemp()) / "standin.sqlite3"))
    standin = StandIn(ledger, Faults(p500=0, p429=0, p_late_accept=0, p_late_reject=0)).start()
    env = _environment(args, standin.url)
    app = create_app(
        TestingConfig, SQLALCHEMY_DATABASE_URI=args.database, QUIET_HOURS="00:00-00:00", ONCALL_PHONE=ONCALL
    )
    with app.app_context():
        _reset()
        member = _seed(args.reminders)
    scheduler = _start_scheduler(env, args.old_wake)
    try:
        commits = _alerts_during_the_tick(app, ledger, member, args)
        _wait_for(ledger, args.reminders + 3, timeout_s=args.reminders / args.rate + 60)  # + 3 safety texts
    finally:
        os.kill(scheduler.pid, signal.SIGTERM)
        scheduler.wait(timeout=30)
        standin.stop()
    _report(ledger, commits)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="a PostgreSQL URL; the database is emptied")
    parser.add_argument("--reminders", type=int, default=300)
    parser.add_argument("--rate", type=float, default=10.0, help="SMS_RATE_PER_S")
    parser.add_argument("--first", type=int, default=60, help="reminders accepted before the first alert")
    parser.add_argument("--second", type=int, default=150, help="... before the second")
    parser.add_argument("--old-wake", action="store_true", help="the wake-up before the fix")
    return parser.parse_args()


def _environment(args, standin_url: str) -> dict:
    return os.environ | {
        "APP_ENV": "development",
        "DATABASE_URL": args.database,
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "bench",
        "TWILIO_FROM_NUMBER": "+15550001111",
        "TWILIO_API_URL": standin_url,
        "SMS_RATE_PER_S": str(args.rate),
        "SCHEDULER_TICK_SECONDS": str(int(args.reminders / args.rate * 2) + 30),  # one long tick
        "QUIET_HOURS": "00:00-00:00",
        "ONCALL_PHONE": ONCALL,
    }


def _reset() -> None:
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade()


def _seed(reminders: int) -> int:
    """A facilitator's group with the member who will write in crisis, and `reminders` waitlisted
    members each with a text due now; returns the member's id."""
    now = datetime.now(UTC)
    facilitator = create_facilitator(_facilitator(), ACTOR, now)
    group = create_group(_group(facilitator.id), ACTOR, now)
    member = create_member(_member(0), ACTOR, now)
    enrol_member(group, member, {}, ACTOR, now)
    waiting = [create_member(_member(i), ACTOR, now) for i in range(1, reminders + 1)]
    plan_messages(
        [
            {"dedupe_key": f"bench:{m.id}", "kind": "custom", "member_id": m.id, "due_at": now}
            | {"context": {"body": f"reminder {i}"}}
            for i, m in enumerate(waiting)
        ]
    )
    db.session.commit()
    return member.id


def _member(i: int) -> dict:
    return {
        "name": f"Member {i}",
        "phone": f"+1312555{1000 + i:04d}",
        "timezone": "America/Chicago",
        "language": "en",
        "problem_area": "grief",
        "availability": [{"day": "tue", "start": "17:00", "end": "21:00"}],
        "sms_consent": True,
        "sms_consent_source": "bench",
    }


def _facilitator() -> dict:
    return {
        "name": "Facilitator 0",
        "phone": "+12025550100",
        "email": "f0@example.org",
        "timezone": "America/Chicago",
        "languages": ["en"],
        "problem_areas": ["grief"],
        "availability": [{"day": "tue", "start": "17:00", "end": "21:00"}],
        "max_groups": 2,
    }


def _group(facilitator_id: int) -> dict:
    return {
        "name": "Group",
        "problem_area": "grief",
        "language": "en",
        "day": "tue",
        "start_time": "18:00",
    } | {
        "session_minutes": 90,
        "max_size": 10,
        "facilitator_id": facilitator_id,
    }


def _start_scheduler(env: dict, old_wake: bool) -> subprocess.Popen:
    root = Path(__file__).resolve().parents[1]
    command = (
        [sys.executable, "-c", OLD_WAKE] if old_wake else [str(root / ".venv/bin/flask"), "--app", "wsgi"]
    )
    command += [] if old_wake else ["ipt", "scheduler"]
    log = open(Path(tempfile.gettempdir()) / "wake_during_tick.log", "w")  # noqa: SIM115 (the child's)
    return subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)


def _alerts_during_the_tick(app, ledger: Ledger, member_id: int, args) -> dict[int, float]:
    """Commit the two alerts once the stand-in has accepted `--first` and `--second` reminders; the
    commit times by alert id."""
    commits = {}
    for after, who in ((args.first, member_id), (args.second, None)):
        _wait_for(ledger, after, timeout_s=60)
        with app.app_context():
            member = db.session.get(Member, who) if who else None
            now = datetime.now(UTC)
            alert = raise_safety_alert(member, "crisis_words", {"phrase": "kms"}, now, from_phone=STRANGER)
            db.session.commit()
            commits[alert.id] = time.time()
            db.session.remove()
    return commits


def _wait_for(ledger: Ledger, count: int, timeout_s: float) -> None:
    until = time.monotonic() + timeout_s
    while len(ledger.accepted()) < count:
        if time.monotonic() > until:
            raise SystemExit(
                f"only {len(ledger.accepted())} of {count} messages accepted in {timeout_s:.0f} s"
            )
        time.sleep(0.05)


def _report(ledger: Ledger, commits: dict[int, float]) -> None:
    accepted = ledger.accepted()
    reminders = [at for _, at, _, body in accepted if body.startswith("reminder ")]
    print(f"{len(reminders)} reminders, from first to last {reminders[-1] - reminders[0]:.1f} s")
    for alert_id, committed in commits.items():
        for _, at, to, body in accepted:
            if f"(alert {alert_id})" in body:
                between = sum(committed < r < at for r in reminders)
                print(f"alert {alert_id}, to {to[:5]}***: {at - committed:.2f} s after the commit,", end=" ")
                print(f"{between} reminders in between")
        print(f"  (the tick's last reminder: {reminders[-1] - committed:.1f} s after this commit)")


if __name__ == "__main__":
    main()
