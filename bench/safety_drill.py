"""The safety drill (issue 11's proof): on PostgreSQL, the real app under gunicorn and the real
`ipt scheduler` sending `--reminders` due reminders to a Twilio stand-in that fails a fifth of its
requests (500 and 429), while an unsigned flood, ordinary signed replies and `--crisis` signed crisis
texts (members in English and in Spanish, strangers, members already over their rate limit) arrive
spread over `--duration` seconds. Reports, per crisis text, the time from the webhook's send to the
stand-in's first accepted SMS to a human (facilitator, on-call, coordinator) about its alert, and how
many were lost (none within `--bound` s); that every crisis sender got the crisis line in their
language; what the flood and the replies did; and the escalation: half the alerts are acknowledged
through the API once their first text is accepted, the others must escalate after
`--escalate-after-minutes` (the scheduler's ESCALATE_AFTER_MINUTES, 1 for the drill instead of 30)
within one tick, and the acknowledged ones never.

    .venv/bin/python bench/safety_drill.py                                   # full, about 6 minutes
    .venv/bin/python bench/safety_drill.py --reminders 1000 --crisis 20 --replies 500 --flood 500 \\
        --duration 20                                                        # small, about a minute

The database (`--database`, default `drill`) is created if absent, emptied (its public schema dropped)
and migrated: never point it at one in use. A Markdown report goes to stdout, every figure to
`WORKDIR/result.json`, the servers' logs to WORKDIR.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import insert, text  # noqa: E402

from bench import webhook_seed as seeding  # noqa: E402
from bench.faults_standin import Faults, Ledger, StandIn  # noqa: E402
from bench.pgdb import ensure_database, reset_schema  # noqa: E402
from bench.webhook import _wait_ready, free_port, stop_gunicorn  # noqa: E402
from bench.webhook_load import sid, twilio_params  # noqa: E402
from config import database_url  # noqa: E402
from ipt_groups import auth  # noqa: E402
from ipt_groups.checkins import safety  # noqa: E402
from ipt_groups.extensions import db  # noqa: E402
from ipt_groups.messaging.outbox import plan_messages  # noqa: E402
from ipt_groups.messaging.twilio import compute_twilio_signature  # noqa: E402
from ipt_groups.models import Coordinator  # noqa: E402

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/drill"
ACTOR = "bench:safety-drill"
TOKEN = "safety-drill-auth-token"
ONCALL = "+12025550999"
COORDINATORS = ("+12025550901", "+12025550902")
ALERT_ID = re.compile(r"\(alerta? (\d+)\)")
CRISIS = {
    "en": ("I am going to kill myself tonight", "i want to die", "gonna kms", "I took an overdose"),
    "es": ("ya no quiero vivir, me quiero matar", "me kiero morir", "quiero morirme"),
}
ORDINARY = ("C", "X", "ok", "thanks", "see you tuesday", "Gracias", "sí")
# Who writes in crisis, by the crisis text's index modulo 10.
SENDERS = ("en", "en", "en", "en", "es", "es", "es", "stranger", "stranger", "limited")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database", default=DEFAULT_DB, help="a PostgreSQL URL; the database is emptied")
    p.add_argument("--reminders", type=int, default=10_000, help="reminders due at the start")
    p.add_argument("--crisis", type=int, default=200, help="signed crisis texts")
    p.add_argument("--replies", type=int, default=5_000, help="ordinary signed replies")
    p.add_argument("--flood", type=int, default=5_000, help="unsigned posts")
    p.add_argument("--duration", type=float, default=180.0, help="seconds the texts are spread over")
    p.add_argument("--members", type=int, default=0, help="members seeded (default: one per reminder)")
    p.add_argument("--p500", type=float, default=0.10, help="share of the stand-in's answers that are 500")
    p.add_argument("--p429", type=float, default=0.10, help="... that are 429")
    p.add_argument("--rate", type=float, default=10.0, help="SMS_RATE_PER_S of the scheduler")
    p.add_argument("--tick", type=int, default=15, help="SCHEDULER_TICK_SECONDS")
    p.add_argument(
        "--escalate-after-minutes",
        type=int,
        default=1,
        help="ESCALATE_AFTER_MINUTES; 0: the default 30, not waited for (only the acks are checked)",
    )
    p.add_argument("--webhook-limit", default="10 per minute", help="WEBHOOK_RATE_LIMIT per sender")
    p.add_argument("--limiter", default="memory://", help="RATELIMIT_STORAGE_URI of the app")
    p.add_argument("--web-workers", type=int, default=2, help="gunicorn workers")
    p.add_argument("--bound", type=float, default=60.0, help="lost: no human SMS by then (s)")
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--workdir", type=Path, default=None, help="logs and result.json (default: a temp dir)")
    return p.parse_args(argv)


# --- seeding -----------------------------------------------------------------------------------------


@dataclass
class Cast:
    """Who is in the drill: members by language, the humans who must be texted, the API token."""

    members: dict[str, list[str]]  # language -> phones of enrolled members
    language: dict[str, str]  # phone -> language
    humans: set[str]
    token: str
    reminders: int = 0


def seed(app, args) -> Cast:
    """Groups of 10 with a facilitator each, one group in four Spanish-speaking (members, group and
    facilitator), two coordinators with phones, a coordinator's API token, and `--reminders` texts
    due now, one per member in turn."""
    now = datetime.now(UTC)
    size = 10
    members = max(args.members or args.reminders, size * 4)
    with app.app_context():
        group_ids, member_ids = seeding._insert_roster(members // size, size, now)
        spanish = group_ids[::4]
        db.session.execute(text("UPDATE groups SET language = 'es' WHERE id = ANY(:g)"), {"g": spanish})
        db.session.execute(
            text(
                "UPDATE facilitators SET language = 'es', languages = CAST('[\"es\", \"en\"]' AS JSON)"
                " WHERE id IN (SELECT facilitator_id FROM groups WHERE id = ANY(:g))"
            ),
            {"g": spanish},
        )
        db.session.execute(
            text(
                "UPDATE members SET language = 'es' WHERE id IN"
                " (SELECT member_id FROM enrolments WHERE group_id = ANY(:g))"
            ),
            {"g": spanish},
        )
        db.session.execute(
            insert(Coordinator),
            [
                {"name": f"Coordinator {i}", "phone": phone, "language": "en", "timezone": seeding.ZONE}
                for i, phone in enumerate(COORDINATORS)
            ],
        )
        rows = db.session.execute(text("SELECT id, phone, language FROM members ORDER BY id")).all()
        plan_messages(
            [
                {
                    "dedupe_key": f"drill:{i}",
                    "kind": "custom",
                    "member_id": rows[i % len(rows)].id,
                    "due_at": now,
                    "context": {"body": f"reminder {i}"},
                }
                for i in range(args.reminders)
            ]
        )
        humans = set(db.session.scalars(text("SELECT phone FROM facilitators"))) | {ONCALL, *COORDINATORS}
        _, token = auth.create_token("coordinator", "safety drill", None, ACTOR)
        db.session.commit()
    seeding._vacuum(app)
    by_language: dict[str, list[str]] = {"en": [], "es": []}
    for _, phone, language in rows:
        by_language[language].append(phone)
    return Cast(by_language, {p: lang for _, p, lang in rows}, humans, token, args.reminders)


# --- the processes -----------------------------------------------------------------------------------


def environment(args, port: int, standin_url: str) -> dict[str, str]:
    """The web app's and the scheduler's: development, the drill's database, Twilio (the stand-in)."""
    return os.environ | {
        "APP_ENV": "development",
        "LOG_FORMAT": "text",
        "DATABASE_URL": args.database,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM_NUMBER": "+15550001111",
        "TWILIO_API_URL": standin_url,
        "SMS_RATE_PER_S": str(args.rate),
        "SCHEDULER_TICK_SECONDS": str(args.tick),
        "ESCALATE_AFTER_MINUTES": str(args.escalate_after_minutes or 30),  # 0: not waited for
        "QUIET_HOURS": "00:00-00:00",
        "ONCALL_PHONE": ONCALL,
        "WEBHOOK_RATE_LIMIT": args.webhook_limit,
        "RATELIMIT_STORAGE_URI": args.limiter,
        "API_RATE_LIMIT": "1000000 per minute",  # the drill's own acks are not what is measured
    }


def start_web(env: dict, port: int, workers: int, log: Path) -> subprocess.Popen:
    """gunicorn as deployed (gunicorn.conf.py) serving the app."""
    cmd = [str(REPO / ".venv/bin/gunicorn"), "-c", str(REPO / "gunicorn.conf.py"), "wsgi:app"]
    env = env | {"PORT": str(port), "WEB_WORKERS": str(workers)}
    out = log.open("w")
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    _wait_ready(proc, port, log)
    return proc


def start_scheduler(env: dict, log: Path) -> subprocess.Popen:
    """The real `flask ipt scheduler` process."""
    cmd = [str(REPO / ".venv/bin/flask"), "--app", "wsgi", "ipt", "scheduler"]
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- the load ----------------------------------------------------------------------------------------


@dataclass
class Post:
    """One inbound webhook of the drill, and what became of it."""

    at: float  # seconds after the start it is due
    kind: str  # crisis, ordinary, burst (ordinary, before a limited member's crisis), flood
    phone: str
    body: str
    sid: str
    sender: str = ""  # crisis: en, es, stranger, limited
    language: str | None = None  # the crisis line expected in
    sent_at: float = 0.0
    status: int = 0
    reply: str = ""
    seconds: float = 0.0


def plan(args, cast: Cast) -> list[Post]:
    """Every webhook of the drill on one timeline. Crisis texts are evenly spread from 5% of the
    duration, each from a sender of its own; a limited member first sends three times the webhook limit in
    ordinary texts over the 15 s before; ordinary replies (the bursts among them) come from the
    other members at random moments; the flood names any member's number."""
    rng = random.Random(args.seed)
    limit = int(args.webhook_limit.split()[0])
    pool = {lang: rng.sample(phones, len(phones)) for lang, phones in cast.members.items()}
    posts, span = [], args.duration
    for i in range(args.crisis):
        at = span * (0.05 + 0.95 * i / max(1, args.crisis))
        who = SENDERS[i % len(SENDERS)]
        if who == "stranger":
            language, phone = ("en", "es")[i % 2], f"+1415555{i:04d}"
        else:
            language = who if who != "limited" else ("en", "es")[(i // 10) % 2]
            phone = pool[language].pop()
        body = rng.choice(CRISIS[language])
        expected = cast.language.get(phone, language)
        if who == "limited":
            for k in range(3 * limit):
                posts.append(Post(at - 15 + 13 * k / (3 * limit), "burst", phone, rng.choice(ORDINARY), ""))
        posts.append(Post(at, "crisis", phone, body, "", who, expected))
    ordinary = pool["en"] + pool["es"]
    bursts = sum(p.kind == "burst" for p in posts)
    for _ in range(max(0, args.replies - bursts)):
        posts.append(Post(rng.uniform(0, span), "ordinary", rng.choice(ordinary), rng.choice(ORDINARY), ""))
    everyone = list(cast.language)
    for k in range(args.flood):
        posts.append(Post(span * k / max(1, args.flood), "flood", rng.choice(everyone), "I want to die", ""))
    posts.sort(key=lambda p: p.at)
    for k, post in enumerate(posts):
        post.sid = sid({"crisis": "SMC", "flood": "SMF"}.get(post.kind, "SMO"), k)
    return posts


def send(port: int, post: Post) -> None:
    """POST one webhook, signed as Twilio signs it unless it is the flood's (a forged signature)."""
    params = twilio_params(post.sid, post.phone, post.body)
    url = f"http://127.0.0.1:{port}/twilio/sms"
    signature = compute_twilio_signature(TOKEN, url, params) if post.kind != "flood" else "forged="
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    post.sent_at = time.time()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("POST", "/twilio/sms", urlencode(params), headers)
        response = conn.getresponse()
        post.status, post.reply = response.status, response.read().decode()
        conn.close()
    except OSError as exc:
        post.status, post.reply = -1, repr(exc)
    post.seconds = time.time() - post.sent_at


def run_load(port: int, posts: list[Post], threads: int = 24) -> float:
    """Send every post at its moment (a pool, so a slow answer delays no other); returns the start."""
    start = time.time()
    with ThreadPoolExecutor(threads) as pool:
        for post in posts:
            delay = start + post.at - time.time()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, port, post)
    return start


# --- watching: alerts, first texts, acknowledgements --------------------------------------------------


@dataclass
class Watch:
    """What the drill learns while it runs: each crisis text's alert, its first human SMS, its ack."""

    alert_of: dict[str, int] = field(default_factory=dict)  # crisis MessageSid -> alert id
    first: dict[int, tuple[float, str]] = field(default_factory=dict)  # alert -> (accepted at, to)
    to_ack: set[str] = field(default_factory=set)  # crisis MessageSids whose alert is acknowledged
    acked: dict[int, float] = field(default_factory=dict)  # alert -> when the ack was answered
    ack_status: dict[int, int] = field(default_factory=dict)


def alerts_of(app, sids: list[str]) -> dict[str, int]:
    """The alert each stored crisis text raised (inbound_messages.handled.alert_id)."""
    query = text("SELECT provider_id, handled FROM inbound_messages WHERE provider_id = ANY(:s)")
    with app.app_context():
        rows = db.session.execute(query, {"s": sids}).all()
        db.session.rollback()
    return {sid_: handled["alert_id"] for sid_, handled in rows if handled.get("alert_id")}


def first_human_texts(ledger: Ledger, humans: set[str]) -> dict[int, tuple[float, str]]:
    """Per alert id, the stand-in's first acceptance of a text about it to a human."""
    first: dict[int, tuple[float, str]] = {}
    for _, at, to, body in ledger.accepted():
        match = ALERT_ID.search(body or "")
        if match and to in humans:
            first.setdefault(int(match.group(1)), (at, to))
    return first


def watch(app, ledger: Ledger, cast: Cast, posts: list[Post], port: int, stop_at: threading.Event, w: Watch):
    """Until told to stop: map crisis texts to alerts, and acknowledge every other crisis text's alert
    (by the crisis text's order) through the API once a human's text about it was accepted."""
    crisis = [p for p in posts if p.kind == "crisis"]
    to_ack = w.to_ack = {p.sid for p in crisis[::2]}
    while not stop_at.wait(0.5):
        pending = [p.sid for p in crisis if p.status and p.sid not in w.alert_of]
        if pending:
            w.alert_of.update(alerts_of(app, pending))
        w.first = first_human_texts(ledger, cast.humans)
        for sid_ in to_ack:
            alert = w.alert_of.get(sid_)
            if alert is not None and alert in w.first and alert not in w.ack_status:
                w.ack_status[alert] = acknowledge(port, cast.token, alert)
                w.acked[alert] = time.time()


def acknowledge(port: int, token: str, alert_id: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"note": "called them: drill"})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn.request("POST", f"/api/v1/alerts/{alert_id}/ack", body, headers)
    status = conn.getresponse().status
    conn.close()
    return status


# --- the figures -------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p99 of 200 values is the 198th)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * p / 100) - 1)] if ordered else float("nan")


def crisis_figures(posts: list[Post], w: Watch, bound: float, lines: dict[str, str]) -> dict:
    crisis = [p for p in posts if p.kind == "crisis"]
    rows, lost, replies_wrong = [], [], []
    for p in crisis:
        alert = w.alert_of.get(p.sid)
        first = w.first.get(alert) if alert is not None else None
        latency = first[0] - p.sent_at if first else None
        rows.append({"sid": p.sid, "sender": p.sender, "alert": alert, "latency_s": latency, **_post(p)})
        if latency is None or latency > bound:
            lost.append(p.sid)
        if p.status != 200 or f"<Message>{_xml(lines[p.language])}</Message>" not in p.reply:
            replies_wrong.append(p.sid)
    latencies = [r["latency_s"] for r in rows if r["latency_s"] is not None]
    by_sender = {
        who: _summary([r["latency_s"] for r in rows if r["sender"] == who and r["latency_s"] is not None])
        for who in dict.fromkeys(SENDERS)
    }
    return {
        "texts": len(crisis),
        "alerts": len({a for a in w.alert_of.values()}),
        "lost": lost,
        "latency": _summary(latencies),
        "by_sender": by_sender,
        "crisis_line_wrong": replies_wrong,
        "rows": rows,
    }


def _xml(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _post(p: Post) -> dict:
    return {"status": p.status, "webhook_s": round(p.seconds, 4), "sent_at": p.sent_at}


def _summary(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "max": max(values),
        "mean": statistics.fmean(values),
    }


def load_figures(app, posts: list[Post]) -> dict:
    """Statuses of each kind of post, and what was stored of it."""
    out = {}
    for kind in ("flood", "ordinary", "burst", "crisis"):
        mine = [p for p in posts if p.kind == kind]
        statuses: dict[str, int] = {}
        for p in mine:
            statuses[str(p.status)] = statuses.get(str(p.status), 0) + 1
        out[kind] = {
            "sent": len(mine),
            "statuses": statuses,
            "webhook_s": _summary([p.seconds for p in mine]),
        }
    query = text(
        "SELECT substr(provider_id, 1, 3), count(*), count(*) FILTER (WHERE (handled->>'rate_limited')::bool)"
        " FROM inbound_messages GROUP BY 1"
    )
    with app.app_context():
        stored = {prefix: (n, limited) for prefix, n, limited in db.session.execute(query)}
        db.session.rollback()
    for kind, prefix in (("flood", "SMF"), ("crisis", "SMC")):
        out[kind]["stored"], out[kind]["rate_limited"] = stored.get(prefix, (0, 0))
    n, limited = stored.get("SMO", (0, 0))
    out["ordinary"]["stored_with_bursts"], out["ordinary"]["rate_limited_with_bursts"] = n, limited
    return out


def limited_crisis(app, posts: list[Post]) -> int:
    """Crisis texts handled while their sender was over the limit (the drill's claim, checked)."""
    sids = [p.sid for p in posts if p.kind == "crisis" and p.sender == "limited"]
    query = text(
        "SELECT count(*) FROM inbound_messages WHERE provider_id = ANY(:s)"
        " AND (handled->>'rate_limited')::bool"
    )
    with app.app_context():
        n = db.session.scalar(query, {"s": sids})
        db.session.rollback()
    return n


def escalation_figures(app, ledger: Ledger, w: Watch, interval_s: float | None, tick_s: float) -> dict:
    """Acknowledged alerts: no escalation due, nothing planned or accepted after the ack. The others:
    escalated, the round planned at most one tick after raised + interval, and accepted by the stand-in."""
    query = text(
        "SELECT a.id, a.created_at, a.acknowledged_at, a.escalation_level, a.next_escalation_at,"
        " (SELECT min(m.created_at) FROM messages m WHERE m.alert_id = a.id"
        "   AND (m.context->>'level')::int = 1) AS first_round,"
        " (SELECT count(*) FROM messages m WHERE m.alert_id = a.id"
        "   AND m.created_at > a.acknowledged_at) AS planned_after_ack,"
        " (SELECT count(*) FROM messages m WHERE m.alert_id = a.id"
        "   AND m.claimed_at > a.acknowledged_at) AS claimed_after_ack"
        " FROM alerts a WHERE a.kind = 'safety' ORDER BY a.id"
    )
    with app.app_context():
        alerts = db.session.execute(query).all()
        db.session.rollback()
    accepted = ledger.accepted()
    late, unescalated, after_ack, not_stopped, escalated_texts = [], [], [], [], []
    lateness = []
    for a in alerts:
        about = [(at, body) for _, at, _, body in accepted if _alert_in(body) == a.id]
        if a.acknowledged_at is not None:
            acked = w.acked.get(a.id, a.acknowledged_at.timestamp())
            if a.planned_after_ack or a.claimed_after_ack or a.next_escalation_at is not None:
                not_stopped.append(a.id)
            after_ack += [a.id for at, _ in about if at > acked + 1.0]
            continue
        if interval_s is None:  # not waited for
            continue
        if not a.escalation_level or a.first_round is None:
            unescalated.append(a.id)
            continue
        due = a.created_at + timedelta(seconds=interval_s)
        lateness.append((a.first_round - due).total_seconds())
        if lateness[-1] > tick_s or lateness[-1] < 0:
            late.append(a.id)
        round_texts = [at for at, body in about if "NOT YET ACKNOWLEDGED" in body or "AÚN SIN" in body]
        if round_texts:
            escalated_texts.append(min(round_texts) - due.timestamp())
    return {
        "alerts": len(alerts),
        "acknowledged": sum(a.acknowledged_at is not None for a in alerts),
        "ack_statuses": _count(w.ack_status.values()),
        "acknowledged_but_escalating": not_stopped,
        "in_flight_at_ack_accepted_after": sorted(set(after_ack)),
        "open": sum(a.acknowledged_at is None for a in alerts),
        "open_not_escalated": unescalated,
        "escalated_late": late,
        "round_planned_after_due_s": _summary(lateness),
        "round_accepted_after_due_s": _summary(escalated_texts),
    }


def _alert_in(body: str | None) -> int | None:
    match = ALERT_ID.search(body or "")
    return int(match.group(1)) if match else None


def _count(values) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[str(v)] = out.get(str(v), 0) + 1
    return out


def reminder_figures(ledger: Ledger, start: float, end: float) -> dict:
    accepted = [at for _, at, _, body in ledger.accepted() if (body or "").startswith("reminder ")]
    return {
        "accepted_during_load": sum(start <= at <= end for at in accepted),
        "accepted_by_the_end": len(accepted),
        "standin_outcomes": ledger.outcomes(),
    }


# --- the run -----------------------------------------------------------------------------------------


def main(argv=None) -> int:
    args = parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="safety-drill-"))
    workdir.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    (workdir / "standin.sqlite3").unlink(missing_ok=True)  # a ledger of this run's texts only
    ledger = Ledger(str(workdir / "standin.sqlite3"))
    faults = Faults(p500=args.p500, p429=args.p429, p_late_accept=0, p_late_reject=0, seed=args.seed)
    standin = StandIn(ledger, faults).start()
    port = free_port()
    env = environment(args, port, standin.url)
    app = _app(args, env)
    ensure_database(args.database)
    reset_schema(app)
    cast = seed(app, args)
    with app.app_context():
        lines = {lang: safety.crisis_line(lang) for lang in ("en", "es")}
    posts = plan(args, cast)
    print(f"seeded; {len(posts)} webhooks over {args.duration:.0f} s", file=sys.stderr, flush=True)
    web = start_web(env, port, args.web_workers, workdir / "web.log")
    scheduler = start_scheduler(env, workdir / "scheduler.log")
    w, stopping = Watch(), threading.Event()
    watcher = threading.Thread(target=watch, args=(app, ledger, cast, posts, port, stopping, w), daemon=True)
    watcher.start()
    try:
        _wait_sending(ledger, scheduler, workdir / "scheduler.log")
        start = run_load(port, posts)
        end = time.time()
        print(f"load sent in {end - start:.0f} s; waiting for the last texts", file=sys.stderr, flush=True)
        _settle(posts, w, args.bound)
        interval_s = 60.0 * args.escalate_after_minutes
        if interval_s:
            _wait_for_escalation(app, interval_s + 2 * args.tick + 10)
    finally:
        stopping.set()
        watcher.join(timeout=30)
        stop(scheduler)
        stop_gunicorn(web)
        standin.stop()
    w.first = first_human_texts(ledger, cast.humans)
    result = {
        "args": {k: str(v) for k, v in vars(args).items()},
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "crisis": crisis_figures(posts, w, args.bound, lines),
        "limited_crisis_texts_rate_limited": limited_crisis(app, posts),
        "load": load_figures(app, posts),
        "reminders": reminder_figures(ledger, start, end),
        "escalation": escalation_figures(app, ledger, w, interval_s or None, args.tick),
        "workdir": str(workdir),
    }
    (workdir / "result.json").write_text(json.dumps(result, indent=1, default=str))
    print(report(result, args))
    ledger.close()
    return 0 if verdict(result, args)["met"] else 1


def _app(args, env: dict):
    from config import config_for
    from ipt_groups.app import create_app

    return create_app(
        config_for("development"),
        SQLALCHEMY_DATABASE_URI=database_url(args.database),
        ONCALL_PHONE=ONCALL,
        TWILIO_AUTH_TOKEN=env["TWILIO_AUTH_TOKEN"],
    )


def _wait_sending(ledger: Ledger, scheduler: subprocess.Popen, log: Path, timeout_s: float = 120) -> None:
    """Until the scheduler has had reminders accepted: the texts arrive while reminders go out."""
    until = time.monotonic() + timeout_s
    while not ledger.outcomes().get("accept"):
        if scheduler.poll() is not None or time.monotonic() > until:
            raise SystemExit(f"the scheduler is not sending: {log.read_text()[-2000:]}")
        time.sleep(0.2)


def _settle(posts: list[Post], w: Watch, bound: float) -> None:
    """Wait until every crisis text has its first human SMS and the alerts to acknowledge are, or
    `bound` s after the last crisis text."""
    crisis = [p for p in posts if p.kind == "crisis"]
    until = max((p.sent_at for p in crisis), default=time.time()) + bound
    while time.time() < until:
        acked = all(w.alert_of.get(s) in w.ack_status for s in w.to_ack)
        if acked and all(w.alert_of.get(p.sid) in w.first for p in crisis):
            return
        time.sleep(0.5)


def _wait_for_escalation(app, after_s: float) -> None:
    """Until `after_s` past the newest alert: every open one has had time to escalate."""
    with app.app_context():
        newest = db.session.scalar(text("SELECT max(created_at) FROM alerts WHERE kind = 'safety'"))
        db.session.rollback()
    if newest is not None:
        wait = newest.timestamp() + after_s - time.time()
        print(f"waiting {max(0, wait):.0f} s for the escalations", file=sys.stderr, flush=True)
        time.sleep(max(0.0, wait))


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    return done.stdout.strip()


def verdict(result: dict, args) -> dict:
    c, e, load = result["crisis"], result["escalation"], result["load"]
    checks = {
        "no crisis text lost": not c["lost"],
        "p99 <= 5 s": c["latency"].get("p99", float("inf")) <= 5.0,
        "every crisis sender got the crisis line": not c["crisis_line_wrong"],
        "one alert per crisis text": c["alerts"] == c["texts"],
        "the flood: all 403, nothing stored": load["flood"]["statuses"] == {"403": load["flood"]["sent"]}
        and load["flood"]["stored"] == 0,
        "every signed text 200": all(
            set(load[k]["statuses"]) <= {"200"} for k in ("ordinary", "burst", "crisis")
        ),
        "acknowledged alerts stopped": not e["acknowledged_but_escalating"],
        "open alerts escalated on time": not e["open_not_escalated"] and not e["escalated_late"],
    }
    return {"checks": checks, "met": all(checks.values())}


def report(r: dict, args) -> str:
    c, e, load, rem = r["crisis"], r["escalation"], r["load"], r["reminders"]
    lat = c["latency"]
    f = lambda s, k: f"{s[k]:.2f}" if k in s else "-"  # noqa: E731
    lines = [
        "# Safety drill",
        "",
        f"- {r['when']}, commit {r['commit']}; load average before {r['loadavg_before'][0]:.2f} "
        f"/ {r['loadavg_before'][1]:.2f} / {r['loadavg_before'][2]:.2f}, after "
        f"{r['loadavg_after'][0]:.2f} / {r['loadavg_after'][1]:.2f} / {r['loadavg_after'][2]:.2f}",
        f"- {args.reminders} reminders due, stand-in failing {args.p500:.0%} (500) + {args.p429:.0%} (429), "
        f"SMS_RATE_PER_S={args.rate:g}, tick {args.tick} s, ESCALATE_AFTER_MINUTES="
        f"{args.escalate_after_minutes}, WEBHOOK_RATE_LIMIT={args.webhook_limit!r}, "
        f"{args.web_workers} web workers, over {args.duration:.0f} s",
        "",
        "| crisis texts | alerts | lost | p50 s | p90 s | p99 s | max s | crisis line wrong |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {c['texts']} | {c['alerts']} | {len(c['lost'])} | {f(lat, 'p50')} | {f(lat, 'p90')} "
        f"| {f(lat, 'p99')} | {f(lat, 'max')} | {len(c['crisis_line_wrong'])} |",
        "",
        "| sender | n | p50 s | p99 s | max s |",
        "|---|---:|---:|---:|---:|",
        *[
            f"| {who} | {s['n']} | {f(s, 'p50')} | {f(s, 'p99')} | {f(s, 'max')} |"
            for who, s in c["by_sender"].items()
        ],
        "",
        "Limited members' crisis texts handled while over the limit: "
        f"{r['limited_crisis_texts_rate_limited']} of {c['by_sender']['limited']['n']}.",
        "",
        "| posts | sent | statuses | stored | rate limited | webhook p99 s |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for kind in ("flood", "ordinary", "burst", "crisis"):
        x = load[kind]
        stored = x.get("stored", x.get("stored_with_bursts", "-"))
        limited = x.get("rate_limited", x.get("rate_limited_with_bursts", "-"))
        if kind == "burst":
            stored = limited = "(with ordinary)"
        lines.append(
            f"| {kind} | {x['sent']} | {x['statuses']} | {stored} | {limited} | {f(x['webhook_s'], 'p99')} |"
        )
    lines += [
        "",
        f"Reminders accepted while the texts arrived: {rem['accepted_during_load']}; by the end: "
        f"{rem['accepted_by_the_end']}. Stand-in answers: {rem['standin_outcomes']}.",
        "",
        f"Escalation: {e['alerts']} alerts, {e['acknowledged']} acknowledged through the API "
        f"({e['ack_statuses']}); acknowledged but escalating or texting after the ack (planned or claimed "
        f"after it): {len(e['acknowledged_but_escalating'])}; "
        f"alerts with a text in flight at the ack (claimed before it) accepted more than 1 s after it: "
        f"{len(e['in_flight_at_ack_accepted_after'])}. "
        f"Open: {e['open']}; not escalated: {len(e['open_not_escalated'])}; escalated late (more than a tick "
        f"after raised + interval): {len(e['escalated_late'])}; round planned after due: p50 "
        f"{f(e['round_planned_after_due_s'], 'p50')} s, max {f(e['round_planned_after_due_s'], 'max')} s; "
        f"its first text accepted after due: p50 {f(e['round_accepted_after_due_s'], 'p50')} s, max "
        f"{f(e['round_accepted_after_due_s'], 'max')} s.",
        "",
        "| check | met |",
        "|---|---|",
        *[f"| {name} | {'yes' if ok else '**no**'} |" for name, ok in verdict(r, args)["checks"].items()],
        "",
        f"Every figure: {r['workdir']}/result.json",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
