"""Faults with exact accounting: a whole cycle for 50 groups in simulated time on PostgreSQL, sent by
the real scheduler process through the official Twilio client to a stand-in that fails a fifth of
the requests (500 / 429) and answers some too late; the scheduler is killed with SIGKILL at ten
random moments and PostgreSQL is restarted once. At the end every outbox row is accounted for
against what the stand-in accepted. Prints a Markdown report; exit status 1 if anything was lost,
doubled or contradicted, or if a second scheduler did not join as a standby.

    python bench/faults.py                              # the full run (about 10 minutes)
    python bench/faults.py --groups 5 --kills 3 --window-s 40 --no-pg-restart   # a quick one

The database (default `bench_faults`) is created if absent and its `public` schema is dropped and
migrated at every start. See docs/bench-faults.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from faults_accounting import account, render  # noqa: E402
from faults_setup import (  # noqa: E402
    NO_QUIET_HOURS,
    build_app,
    compress_schedule,
    pick_bad_numbers,
    populate,
)
from faults_standin import Faults, Ledger, StandIn  # noqa: E402
from pgdb import ensure_database, reset_schema  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from ipt_groups.extensions import db  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_faults"
ACCOUNT_SID = "AC" + "f0" * 16
SERVICE_SID = "MG" + "f1" * 16


@dataclass
class Options:
    url: str = DEFAULT_URL
    groups: int = 50
    members: int = 6
    kills: int = 10
    pg_restart: bool = True
    probes: int = 2  # second schedulers alongside: one early, one after the PostgreSQL restart
    lead_s: float = 8.0
    window_s: float = 540.0  # the whole cycle's due times, compressed into this much real time
    deadline_floor_s: float = 420.0
    drain_s: float = 300.0  # after the window, how long the outbox may take to empty
    timeout_s: float = 0.5  # TWILIO_TIMEOUT_S
    max_retries: int = 3  # SMS_MAX_RETRIES: the adapter's own retries within one send
    p500: float = 0.10
    p429: float = 0.10
    p_late_accept: float = 0.01
    p_late_reject: float = 0.005
    bad_numbers: int = 1
    seed: int = 7
    workdir: str = ""


@dataclass
class Journal:
    """What the harness did and saw, in order."""

    events: list = field(default_factory=list)
    incarnations: int = 0
    self_exits: list = field(default_factory=list)
    probes: list = field(default_factory=list)
    pg_restarts: list = field(default_factory=list)

    def log(self, t0: float, what: str) -> None:
        self.events.append(f"{time.monotonic() - t0:7.1f}s {what}")
        print(self.events[-1], flush=True)


# --- the scheduler process ------------------------------------------------------------------------


class Schedulers:
    """The scheduler subprocess (restarted after each kill) and second schedulers started beside it."""

    def __init__(self, env: dict, workdir: Path, journal: Journal, t0: float) -> None:
        self.env, self.workdir, self.journal, self.t0 = env, workdir, journal, t0
        self.proc: subprocess.Popen | None = None

    def _spawn(self, name: str) -> subprocess.Popen:
        with open(self.workdir / f"{name}.log", "w") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "ipt", "scheduler"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def start(self) -> None:
        self.journal.incarnations += 1
        self.proc = self._spawn(f"scheduler-{self.journal.incarnations:02d}")
        self.journal.log(self.t0, f"scheduler #{self.journal.incarnations} started (pid {self.proc.pid})")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.journal.log(self.t0, f"SIGKILL scheduler pid {self.proc.pid}")

    def check_alive(self) -> None:
        """A scheduler that exited on its own is recorded (with its log's tail) and restarted."""
        if self.proc is not None and self.proc.poll() is not None:
            tail = (self.workdir / f"scheduler-{self.journal.incarnations:02d}.log").read_text()[-600:]
            self.journal.self_exits.append({"pid": self.proc.pid, "rc": self.proc.returncode, "tail": tail})
            self.journal.log(
                self.t0, f"scheduler pid {self.proc.pid} exited by itself (rc {self.proc.returncode})"
            )
            self.start()

    def wait_running(self, timeout_s: float = 60.0) -> bool:
        """Wait until the current scheduler has started (it logs "started (leading)" once it leads)."""
        log = self.workdir / f"scheduler-{self.journal.incarnations:02d}.log"
        until = time.monotonic() + timeout_s
        while time.monotonic() < until and self.proc.poll() is None:
            if " started (" in log.read_text():
                return True
            time.sleep(0.1)
        return False

    def probe(self, wait_s: float = 60.0, alongside_s: float = 8.0) -> str:
        """Start a second scheduler: it must join as a standby (the lock is taken), dispatch alongside
        the first for `alongside_s` (claims are atomic: nothing is sent twice), and stop on SIGTERM.
        It is started once the running scheduler has started: a restarted scheduler on a busy machine
        can take seconds to get there, and a probe started before would rightly take the lock itself."""
        n = len(self.journal.probes) + 1
        if not self.wait_running():
            self.journal.probes.append("no scheduler running beside it")
            return self.journal.probes[-1]
        second = self._spawn(f"second-{n}")
        log = self.workdir / f"second-{n}.log"
        until = time.monotonic() + wait_s
        while time.monotonic() < until and second.poll() is None and " started (" not in log.read_text():
            time.sleep(0.1)
        time.sleep(alongside_s)
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            second.send_signal(signal.SIGKILL)
            second.wait()
        output = log.read_text()
        joined = second.returncode == 0 and "started (standing by)" in output
        verdict = "joined" if joined else f"NOT joined (rc {second.returncode})"
        self.journal.probes.append(verdict)
        self.journal.log(self.t0, f"second scheduler #{n}: {verdict}")
        return verdict

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def scheduler_env(opts: Options, standin_url: str) -> dict:
    """The scheduler's environment: development config, PostgreSQL, Twilio at the stand-in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "SMS_", "FLASK_"))}
    env.update(
        APP_ENV="development",
        DATABASE_URL=opts.url,
        SMS_BACKEND="twilio",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN="bench-faults-token",
        TWILIO_MESSAGING_SERVICE_SID=SERVICE_SID,
        TWILIO_API_URL=standin_url,
        TWILIO_TIMEOUT_S=str(opts.timeout_s),
        SMS_MAX_RETRIES=str(opts.max_retries),
        SMS_RETRY_BASE_S="0.05",
        SMS_RATE_PER_S="1000",
        SCHEDULER_TICK_SECONDS="1",
        QUIET_HOURS=NO_QUIET_HOURS,
        PUBLIC_BASE_URL="http://127.0.0.1:9",
        PYTHONUNBUFFERED="1",
    )
    return env


# --- PostgreSQL ---------------------------------------------------------------------------------------


def _cluster() -> list[str]:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    return ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main"]


def restart_postgres() -> float:
    """Restart the local PostgreSQL service; returns the seconds it took."""
    started = time.monotonic()
    subprocess.run([*_cluster(), "restart"], check=True, capture_output=True, timeout=120)
    return time.monotonic() - started


def ensure_postgres_running() -> None:
    """Start the cluster if a restart left it down (always called at the end)."""
    status = subprocess.run([*_cluster(), "status"], capture_output=True)
    if status.returncode != 0:
        subprocess.run([*_cluster(), "start"], check=False, capture_output=True, timeout=120)


# --- the run --------------------------------------------------------------------------------------


def plan_faults(opts: Options, rng: random.Random) -> list[tuple[float, str]]:
    """Kill moments spread over the window (at least 4 s apart), the restart between the middle
    kills, a probe after the second kill (another follows the restart at once)."""
    span = opts.lead_s + opts.window_s
    while True:
        kills = sorted(rng.uniform(opts.lead_s, span) for _ in range(opts.kills))
        if all(b - a >= 4.0 for a, b in zip(kills, kills[1:], strict=False)):
            break
    events = [(t, "kill") for t in kills]
    if opts.pg_restart:
        middle = kills[len(kills) // 2 - 1 : len(kills) // 2 + 1] if len(kills) >= 2 else [span / 3, span]
        restart_at = (middle[0] + middle[-1]) / 2
        events.append((restart_at, "pg_restart"))
    if opts.probes >= 1:
        events.append(((kills[1] if len(kills) > 1 else opts.lead_s) + 4.0, "probe"))
    return sorted(events)


def outbox_counts(app) -> dict[str, int] | None:
    try:
        with app.app_context():
            rows = db.session.execute(text("SELECT state, count(*) FROM messages GROUP BY state")).all()
            db.session.remove()
        return dict(rows)
    except OperationalError:
        return None  # PostgreSQL is restarting


def run(opts: Options) -> dict:
    """Set up, inject the faults, drain, account. Returns the report's data."""
    rng = random.Random(opts.seed)
    workdir = Path(opts.workdir or tempfile.mkdtemp(prefix="bench-faults-"))
    workdir.mkdir(parents=True, exist_ok=True)
    ensure_database(opts.url)
    app = build_app(opts.url)
    reset_schema(app)
    phones = populate(app, opts.groups, opts.members, _utcnow())
    faults = Faults(
        p500=opts.p500,
        p429=opts.p429,
        p_late_accept=opts.p_late_accept,
        p_late_reject=opts.p_late_reject,
        late_s=opts.timeout_s + 0.5,
        bad_numbers=pick_bad_numbers(phones, opts.bad_numbers, opts.seed),
        seed=opts.seed,
    )
    ledger = Ledger(str(workdir / "standin.sqlite3"))
    standin = StandIn(ledger, faults).start()
    journal, t0 = Journal(), time.monotonic()
    schedulers = Schedulers(scheduler_env(opts, standin.url), workdir, journal, t0)
    try:
        compressed = compress_schedule(app, opts.lead_s, opts.window_s, opts.deadline_floor_s)
        journal.log(t0, f"{compressed['rows']} messages over {compressed['simulated_days']} days -> "
                        f"{opts.window_s:.0f} s; stand-in at {standin.url}")  # fmt: skip
        schedulers.start()
        _inject(opts, plan_faults(opts, rng), schedulers, journal, app, t0, rng)
        _drain(opts, schedulers, journal, app, t0)
    finally:
        schedulers.stop()
        ensure_postgres_running()
        standin.stop()
    acc = account(app, ledger.accepted(), ledger.outcomes(), compressed["rows"])
    ledger.close()
    with app.app_context():
        db.engine.dispose()
    (workdir / "journal.txt").write_text("\n".join(journal.events) + "\n")
    (workdir / "result.json").write_text(json.dumps(_as_json(acc, journal), indent=1, default=str))
    return {"options": asdict(opts), "workdir": str(workdir), "journal": journal, "accounting": acc,
            "elapsed_s": time.monotonic() - t0}  # fmt: skip


def _inject(opts, events, schedulers: Schedulers, journal: Journal, app, t0, rng) -> None:
    for at, kind in events:
        while time.monotonic() - t0 < at:
            time.sleep(0.2)
            schedulers.check_alive()
        if kind == "kill":
            schedulers.kill()
            time.sleep(rng.uniform(0.2, 2.0))
            schedulers.start()
        elif kind == "pg_restart":
            journal.log(t0, f"PostgreSQL restarting; outbox {outbox_counts(app)}")
            took = restart_postgres()
            alive = schedulers.proc.poll() is None
            journal.pg_restarts.append({"took_s": round(took, 1), "scheduler_alive_after": alive})
            journal.log(t0, f"PostgreSQL restarted in {took:.1f} s; scheduler alive: {alive}")
            if opts.probes >= 2:  # at once, while the scheduler that lived through the restart runs
                schedulers.probe()
        else:
            schedulers.probe()


def _drain(opts, schedulers: Schedulers, journal: Journal, app, t0) -> None:
    """Wait for the outbox to have nothing pending or sending: at most `drain_s` after the end of
    the compressed window (a retry waits 2 minutes per attempt, in real time)."""
    deadline, last = t0 + opts.lead_s + opts.window_s + opts.drain_s, None
    while time.monotonic() < deadline:
        schedulers.check_alive()
        counts = outbox_counts(app) or {}
        open_rows = counts.get("pending", 0) + counts.get("sending", 0)
        if counts and not open_rows:
            journal.log(t0, f"outbox drained: {counts}")
            return
        if counts != last and int(time.monotonic() - t0) % 10 == 0:
            journal.log(t0, f"outbox {counts}")
            last = counts
        time.sleep(1.0)
    journal.log(t0, f"drain timed out ({opts.drain_s:.0f} s after the window): {outbox_counts(app)}")


def _as_json(acc, journal: Journal) -> dict:
    """The accounting and the journal, for tests and for keeping."""
    data = {f.name: getattr(acc, f.name) for f in fields(acc)}  # not asdict: it garbles Counters
    data["states"] = dict(acc.states)
    data["final_reasons"] = [[state, reason, n] for (state, reason), n in sorted(acc.final_reasons.items())]
    data.update(delivered_once=acc.delivered_once, ok=acc.ok)
    return {"accounting": data, "journal": asdict(journal)}


def _utcnow():
    from datetime import UTC, datetime

    return datetime.now(UTC)


# --- the report -----------------------------------------------------------------------------------


def report(result: dict) -> str:
    opts, journal, acc = result["options"], result["journal"], result["accounting"]
    lines = [
        "# Faults with exact accounting",
        "",
        f"{opts['groups']} groups x {opts['members']} members, seed {opts['seed']}, "
        f"{result['elapsed_s']:.0f} s; logs and the stand-in's ledger in {result['workdir']}",
        "",
        *render(acc),
        "",
        f"Scheduler incarnations: {journal.incarnations}; exits on its own: {len(journal.self_exits)}; "
        f"second schedulers: {', '.join(journal.probes) or 'none'}; "
        f"PostgreSQL restarts: {journal.pg_restarts}",
        "",
        "Verdict: " + ("PASS" if passed(result) else "FAIL"),
    ]
    for name in ("duplicates", "contradicted", "lost", "phantom_sent", "unmatched_acceptances"):
        if items := getattr(acc, name):
            lines.append(f"{name}: {json.dumps(items[:20], default=str)}")
    return "\n".join(lines)


def passed(result: dict) -> bool:
    journal = result["journal"]
    return (
        result["accounting"].ok and "joined" in journal.probes if journal.probes else result["accounting"].ok
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    defaults = Options()
    for name, value in asdict(defaults).items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=value)
        else:
            parser.add_argument(flag, type=type(value), default=value)
    opts = Options(**vars(parser.parse_args(argv)))
    result = run(opts)
    print("\n" + "\n".join(result["journal"].events[-3:]) + "\n")
    print(report(result))
    return 0 if passed(result) else 1


if __name__ == "__main__":
    sys.exit(main())
