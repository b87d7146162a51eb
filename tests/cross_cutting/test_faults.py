"""Faults with exact accounting, small: the real scheduler process killed with SIGKILL, a Twilio
stand-in failing a fifth of its requests and answering some too late, every message accounted for
(bench/faults.py at CI size). Then the bugs the full benchmark found, each a test of its own."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bench.pgdb import drop_database
from ipt_groups.checkins.sending import KINDS, ON_TICK
from ipt_groups.extensions import db as _db
from ipt_groups.messaging.base import RecordingSender, RetryableSendError
from ipt_groups.messaging.dispatch import DispatchSettings, deliver, run_tick
from ipt_groups.messaging.outbox import MAX_ATTEMPTS, claim_due, plan_messages, recover_interrupted
from ipt_groups.messaging.timing import QuietHours
from ipt_groups.models import Message
from ipt_groups.worker import tick

NOON_CHICAGO = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
BENCH = Path(__file__).resolve().parents[2] / "bench" / "faults.py"


def _faults_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("the fault run needs PostgreSQL (advisory lock, SKIP LOCKED): set TEST_DATABASE_URL")
    # A database per run: two suites on one server (two checkouts, two CI jobs) must not share it,
    # since the harness drops its schema at the start and its accounting assumes one writer.
    name = f"bench_faults_ci_{os.getpid()}"
    return make_url(url).set(drivername="postgresql+psycopg", database=name).render_as_string(False)


@pytest.mark.postgres
def test_killed_scheduler_and_a_failing_provider_lose_and_double_nothing(tmp_path):
    # The harness in a process of its own, as it is run by hand: it owns its app, its engine and
    # the stand-in's thread, and nothing of them outlives the run.
    args = {
        "--url": _faults_url(),
        "--groups": 3,
        "--members": 3,
        "--kills": 2,
        "--probes": 1,
        "--lead-s": 3,
        "--window-s": 12,
        "--deadline-floor-s": 120,
        "--drain-s": 60,
        "--max-retries": 6,  # a message failing 7 times in a row would wait 2 minutes for its retry
        "--workdir": tmp_path,
    }
    command = [sys.executable, str(BENCH), "--no-pg-restart", *(str(x) for kv in args.items() for x in kv)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=240)
    finally:
        drop_database(args["--url"])
    assert (tmp_path / "result.json").exists(), done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads((tmp_path / "result.json").read_text())
    acc, journal = result["accounting"], result["journal"]
    assert (acc["duplicates"], acc["contradicted"], acc["lost"]) == ([], [], [])
    assert (acc["phantom_sent"], acc["unmatched_acceptances"]) == ([], [])
    finished = sum(n for state, _, n in acc["final_reasons"] if state != "unknown")
    unknown = acc["unknown_accepted"] + acc["unknown_not_accepted"]
    assert acc["delivered_sent"] + unknown + finished == acc["planned"]
    assert acc["accepted_total"] == acc["delivered_once"]  # each acceptance is one row's only copy
    assert acc["requests"]["500"] and acc["requests"]["429"]  # the faults did happen
    assert journal["incarnations"] == 3 and journal["self_exits"] == []
    assert journal["probes"] == ["joined"]  # a second scheduler sent alongside: still no double
    assert done.returncode == 0, done.stdout[-2000:]


# --- bugs the benchmark found -------------------------------------------------------------------------


def _plan(member, n=1):
    rows = [
        {
            "dedupe_key": f"faults:{member.id}:{i}",
            "kind": "custom",
            "member_id": member.id,
            "due_at": NOON_CHICAGO,
            "context": {"body": f"hello {i}"},
        }
        for i in range(n)
    ]
    plan_messages(rows)
    _db.session.commit()


def _settings(worker: str) -> DispatchSettings:
    return DispatchSettings(
        kinds=KINDS, on_tick=ON_TICK, worker=worker, batch=100, quiet=QuietHours(), programme="P"
    )


@pytest.fixture
def member(make_member):
    return make_member(0)


def test_a_claim_recovered_by_another_scheduler_is_not_sent_by_its_first_owner(db, member):
    # After a PostgreSQL restart the first scheduler has lost its advisory lock; a second one starts,
    # requeues the rows the first had claimed but not begun, and sends them. The first, still in its
    # batch, must not send them again.
    _plan(member, 3)
    claimed = claim_due(NOON_CHICAGO, "first", 10)
    assert recover_interrupted(NOON_CHICAGO, "second") == (3, 0)
    second = RecordingSender()
    run_tick(second, NOON_CHICAGO, _settings("second"))
    first = RecordingSender()
    for message_id in claimed:
        deliver(message_id, first, NOON_CHICAGO, _settings("first"))
    _db.session.commit()
    assert len(second.sent) == 3 and first.attempts == []
    assert sorted(m.state for m in Message.query) == ["sent"] * 3


def test_claims_interrupted_by_a_crash_are_not_counted_as_send_attempts(db, member):
    # Each SIGKILL requeues the batch it had claimed; those claims sent nothing, so one throttled send
    # afterwards must be retried, not "given up after 5 attempts" (nor retried 10 minutes later).
    _plan(member)
    for i in range(MAX_ATTEMPTS):
        claim_due(NOON_CHICAGO, f"killed-{i}", 10)
        recover_interrupted(NOON_CHICAGO, f"restarted-{i}")
    sender = RecordingSender()
    sender.fail_next(RetryableSendError(20429, "Too Many Requests"))
    run_tick(sender, NOON_CHICAGO, _settings("w"))
    message = Message.query.one()
    assert (message.state, message.attempts) == ("pending", 1)
    assert message.reason.startswith("retrying (20429)")


class DatabaseGone(RecordingSender):
    """The database connection dropping during a send: the tick fails after the first claim began."""

    def send(self, to, body, *, status_callback=None):
        super().send(to, body, status_callback=status_callback)
        raise RuntimeError("server closed the connection unexpectedly")


def test_a_tick_that_fails_midway_does_not_strand_its_claimed_rows(app, db, member):
    # The scheduler survives a PostgreSQL restart (the tick fails, the next one runs), but the rows
    # of the failed tick stayed `sending` under its own worker id, which startup recovery skips, so
    # they waited for the next process restart. The same scheduler's next tick must settle them.
    _plan(member, 3)
    assert tick(app, DatabaseGone(), None, "w1", now=NOON_CHICAGO) is None
    healthy = RecordingSender()
    tick(app, healthy, None, "w1", now=NOON_CHICAGO)
    states = sorted(m.state for m in Message.query)
    assert states == ["sent", "sent", "unknown"]  # the one in flight may have gone: never resent
    assert len(healthy.sent) == 2
