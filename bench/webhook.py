"""Inbound-SMS webhook benchmark: POST /twilio/sms under gunicorn on PostgreSQL, signed as Twilio
signs it, a mix of PHQ-9 answers and RSVPs (C/X) from 5,000 members, against a bare Flask endpoint
that returns the same TwiML under the same gunicorn settings. Prints a Markdown report.

    .venv/bin/python bench/webhook.py > webhook-results.md        # full run, about 6 minutes
    .venv/bin/python bench/webhook.py --members 500 --connections 4 --duration 5 --warmup 2   # smoke

Needs `wrk` (Debian: apt-get install -y wrk) and PostgreSQL; the database named by --url (default
`bench_webhook`) is created if absent, its `public` schema dropped, recreated and migrated by the app.
See docs/bench-webhook.md for what is measured and how.
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import webhook_load as load  # noqa: E402
import webhook_seed as seeding  # noqa: E402
from pgdb import ensure_database, reset_schema  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench_webhook"
TOKEN = "bench-webhook-auth-token"
NO_LIMIT = "1000000 per minute"
TARGETS = {"rps": 400.0, "p99_ms": 100.0, "ratio": 0.35}
APPS = {"app": "wsgi:app", "bare": "webhook_bare:app"}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL URL of the benchmark database")
    p.add_argument("--members", type=int, default=5000)
    p.add_argument("--group-size", type=int, default=10)
    p.add_argument("--connections", default="2,4,8,16,32", help="wrk connections, one run each")
    p.add_argument("--warmup", type=int, default=5.0, help="seconds of load before each window")
    p.add_argument("--duration", type=int, default=20.0, help="seconds of the measured window")
    p.add_argument("--workers", type=int, default=2, help="gunicorn -w (both apps)")
    p.add_argument("--worker-class", default="sync", choices=("sync", "gthread"))
    p.add_argument("--threads", type=int, default=4, help="gunicorn --threads with gthread")
    p.add_argument("--rps-cap", type=float, default=2500.0, help="sizes the request files (never reused)")
    p.add_argument("--seed", type=int, default=7)
    return p.parse_args(argv)


# --- gunicorn ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(url: str, port: int) -> dict[str, str]:
    """The app's environment: development, the benchmark database, a token, limits out of the way."""
    return {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": url,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "WEBHOOK_RATE_LIMIT": NO_LIMIT,
        "API_RATE_LIMIT": NO_LIMIT,
    }


def gunicorn_settings(args) -> list[str]:
    """The settings both apps run under."""
    extra = ["--threads", str(args.threads)] if args.worker_class == "gthread" else []
    return [
        "-w",
        str(args.workers),
        "-k",
        args.worker_class,
        *extra,
        "--timeout",
        "30",
        "--log-level",
        "warning",
    ]


def start_gunicorn(args, name: str, port: int, log: Path) -> subprocess.Popen:
    cmd = [
        str(REPO / ".venv" / "bin" / "gunicorn"), *gunicorn_settings(args), "-b", f"127.0.0.1:{port}",
        "--chdir", str(REPO), "--pythonpath", str(REPO / "bench"), APPS[name],
    ]  # fmt: skip
    out = log.open("w")
    proc = subprocess.Popen(cmd, env=server_env(args.url, port), stdout=out, stderr=subprocess.STDOUT)
    _wait_ready(proc, port, log)
    return proc


def _wait_ready(proc: subprocess.Popen, port: int, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log.read_text()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/")
            conn.getresponse().read()
            conn.close()
            time.sleep(1.0)  # let the second worker finish booting too
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn on port {port} not ready after {timeout}s")


def stop_gunicorn(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- one level ----------------------------------------------------------------------------------------


def run_level(ctx: dict, idx: int, connections: int) -> dict:
    """Both apps at one concurrency: fresh check-ins, fresh MessageSids, warm-up then the window."""
    args, db_app, seeded = ctx["args"], ctx["db_app"], ctx["seeded"]
    seeding.reopen_checkins(db_app, datetime.now(UTC))
    prefix = f"SM{idx:02x}"
    rounds = math.ceil(args.rps_cap * (args.warmup + args.duration) / args.members)
    replies = load.reply_rounds(seeded, rounds, args.seed + idx)
    requests = ctx["tmp"] / f"requests-{idx}.tsv"
    load.write_requests(requests, f"{ctx['base']['app']}/twilio/sms", TOKEN, prefix, replies)
    out = {"connections": connections, "lines": len(replies)}
    for name in ("app", "bare"):
        out[name] = measure(ctx, name, requests, connections)
    sent = out["app"]["warm_sent"] + out["app"]["sent"]
    out["resent"] = resend_cut_off(ctx, prefix, requests, sent)
    out["stored"] = seeding.stored_kinds(db_app, prefix)
    out["kinds"] = _sent_kinds(replies[:sent], seeded)
    requests.unlink()  # tens of MB each; the servers' logs stay in the temporary directory
    _progress(out)
    return out


def run_level_once(ctx: dict, idx: int, connections: int) -> dict:
    """run_level, run again (with new MessageSids) if PostgreSQL was restarted meanwhile by someone
    else on the machine or the level failed on a lost database connection."""
    for attempt in range(3):
        try:
            started = seeding.postmaster_started(ctx["db_app"])
            level = run_level(ctx, idx + 0x40 * attempt, connections)
            if seeding.postmaster_started(ctx["db_app"]) == started:
                return level
            reason = "PostgreSQL was restarted during the level"
        except OperationalError as exc:
            reason = f"database error: {str(exc).splitlines()[0]}"
        print(f"c={connections}: {reason}; running the level again", file=sys.stderr, flush=True)
        ctx.setdefault("reruns", []).append(f"c={connections}: {reason}")
        time.sleep(5.0)
    raise RuntimeError(f"c={connections}: could not run the level without interference")


def measure(ctx: dict, name: str, requests: Path, connections: int) -> dict:
    """A warm-up run, then the measured window continuing from the next unsent request."""
    args, url = ctx["args"], f"{ctx['base'][name]}/twilio/sms"
    warm = load.run_wrk(url, ctx["lua"], requests, 0, connections, args.warmup)
    pids = load.process_tree(ctx["procs"][name].pid)
    pg = seeding.backend_pids(ctx["db_app"]) if name == "app" else []
    before = load.snapshot(pids, pg)
    result = load.run_wrk(url, ctx["lua"], requests, warm["sent"], connections, args.duration)
    result["cpu"] = load.cpu_share(before, load.snapshot(pids, pg), result["wrk_cpu_s"])
    result["warm_sent"], result["warm"] = warm["sent"], warm
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def resend_cut_off(ctx: dict, prefix: str, requests: Path, sent: int) -> dict:
    """Requests wrk wrote but dropped when it closed its connections at the end of a run (the server
    got a reset before reading them) are posted once more, as Twilio retries; then every request
    sent is stored exactly once. Returns how many there were, and their statuses."""
    time.sleep(1.0)  # anything still in flight on the server finishes first
    stored = seeding.stored_sids(ctx["db_app"], prefix)
    missing = {k for k in range(sent) if load.sid(prefix, k) not in stored}
    statuses = load.post_lines(ctx["ports"]["app"], requests, missing) if missing else {}
    return {"count": len(missing), "statuses": statuses}


def _sent_kinds(replies: list[tuple[str, str]], seeded) -> dict[str, int]:
    survey_phones = {phone for _, phone in seeded.survey}
    kinds = {"survey": 0, "rsvp": 0}
    for phone, _body in replies:
        kinds["survey" if phone in survey_phones else "rsvp"] += 1
    return kinds


def _progress(level: dict) -> None:
    a, b = level["app"], level["bare"]
    print(
        f"c={level['connections']}: app {a['rps']:.0f}/s p99 {a['p99_us'] / 1000:.1f} ms;"
        f" bare {b['rps']:.0f}/s p99 {b['p99_us'] / 1000:.1f} ms",
        file=sys.stderr,
        flush=True,
    )


# --- checks -------------------------------------------------------------------------------------------


def check_level(level: dict) -> list[str]:
    """What went wrong at this level: non-200s, bad TwiML, transport errors, rows not stored."""
    label = f"c={level['connections']}"
    problems = []
    for name in ("app", "bare"):
        for phase, r in (("warm-up", level[name]["warm"]), ("window", level[name])):
            problems += _check_run(f"{name} {label} {phase}", r, name == "app")
    sent = level["app"]["warm_sent"] + level["app"]["sent"]
    stored = sum(level["stored"].values())
    if stored != sent:
        problems.append(f"app {label}: {sent} requests sent but {stored} inbound rows stored")
    if set(level["resent"]["statuses"]) - {200}:
        problems.append(f"app {label}: re-sent requests answered {level['resent']['statuses']}")
    return problems


def _check_run(label: str, r: dict, unique: bool) -> list[str]:
    problems = []
    if r["answered"] != r["ok200"]:
        problems.append(f"{label}: {r['answered'] - r['ok200']} answers not 200 ({r['s5xx']} were 5xx)")
    if r["bad_twiml"]:
        problems.append(f"{label}: {r['bad_twiml']} answers not TwiML")
    errors = r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"]
    if errors:
        problems.append(f"{label}: {errors} socket errors or timeouts")
    if unique and r["wrapped"]:
        problems.append(f"{label}: request file exhausted, MessageSids reused (raise --rps-cap)")
    return problems


def log_problems(logs: dict[str, Path]) -> list[str]:
    """Tracebacks and errors in the servers' output."""
    out = []
    for name, path in logs.items():
        bad = [x for x in path.read_text().splitlines() if "Traceback" in x or "ERROR" in x or "Error" in x]
        if bad:
            out.append(f"{name} log: {len(bad)} error lines, first: {bad[0][:200]}")
    return out


# --- report -------------------------------------------------------------------------------------------


def ms(us: float) -> str:
    return f"{us / 1000:.1f}"


def best(levels: list[dict], name: str, p99_ms: float | None) -> dict | None:
    """The level with the highest throughput for this app, within the p99 bound if given."""
    ok = [lv for lv in levels if p99_ms is None or lv[name]["p99_us"] / 1000 <= p99_ms]
    return max(ok, key=lambda lv: lv[name]["rps"], default=None)


def _figures(r: dict, connections: int) -> str:
    return f"{r['rps']:.0f} (c={connections}) | {ms(r['p50_us'])} | {ms(r['p99_us'])}"


def headline_rows(levels: list[dict]) -> list[str]:
    rows = []
    for label, bound in (("best with p99 <= 100 ms", TARGETS["p99_ms"]), ("saturation (highest)", None)):
        a, b = best(levels, "app", bound), best(levels, "bare", bound)
        if a is None or b is None:
            rows.append(f"| {label} | - | - | - | - | - | - | - |")
            continue
        ratio = a["app"]["rps"] / b["bare"]["rps"]
        rows.append(
            f"| {label} | {_figures(a['app'], a['connections'])} | {_figures(b['bare'], b['connections'])} "
            f"| {ratio:.2f} |"
        )
    return rows


def targets_rows(levels: list[dict]) -> list[str]:
    a, b = best(levels, "app", TARGETS["p99_ms"]), best(levels, "bare", TARGETS["p99_ms"])
    rps = a["app"]["rps"] if a else 0.0
    ratio = rps / b["bare"]["rps"] if a and b else 0.0
    p99 = f"p99 {ms(a['app']['p99_us'])} ms at c={a['connections']}" if a else "no level within 100 ms"
    return [
        f"| replies/s with p99 <= 100 ms | >= 400 | {rps:.0f} ({p99}) | {_met(rps >= TARGETS['rps'])} |",
        f"| ratio app/bare, both p99 <= 100 ms | >= 0.35 | {ratio:.2f} | {_met(ratio >= TARGETS['ratio'])} |",
    ]


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def level_rows(levels: list[dict]) -> list[str]:
    rows = []
    for lv in levels:
        a, b = lv["app"], lv["bare"]
        app = f"{a['rps']:.0f} | {ms(a['p50_us'])} | {ms(a['p99_us'])} | {ms(a['p99.9_us'])}"
        bare = f"{b['rps']:.0f} | {ms(b['p50_us'])} | {ms(b['p99_us'])}"
        rows.append(f"| {lv['connections']} | {app} | {bare} | {a['rps'] / b['rps']:.2f} |")
    return rows


def cpu_rows(levels: list[dict]) -> list[str]:
    rows = []
    for lv in levels:
        for name in ("app", "bare"):
            c, rps = lv[name]["cpu"], lv[name]["rps"]
            cores = " | ".join(f"{c[k]:.2f}" for k in ("machine", "server", "postgres", "wrk", "other"))
            per = 1000 * (c["server"] + c["postgres"]) / rps if rps else 0.0
            rows.append(f"| {lv['connections']} | {name} | {cores} | {per:.2f} |")
    return rows


def cost_rows(levels: list[dict]) -> list[str]:
    """Throughput the measured CPU cost allows if the machine's cores served nothing else (an upper
    bound, not a measurement: it ignores the kernel, wrk and scheduling)."""
    rows, cores = [], os.cpu_count() or 1
    for name in ("app", "bare"):
        costs = [
            1000 * (lv[name]["cpu"]["server"] + lv[name]["cpu"]["postgres"]) / lv[name]["rps"]
            for lv in levels
        ]
        cost = min(costs)
        rows.append(f"| {name} | {cost:.2f} | {cores * 1000 / cost:.0f} |")
    return rows


def check_rows(levels: list[dict]) -> list[str]:
    rows = []
    for lv in levels:
        a, w = lv["app"], lv["app"]["warm"]
        sent = a["warm_sent"] + a["sent"]
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(lv["stored"].items()))
        answers = f"{w['answered'] + a['answered']} | {w['ok200'] + a['ok200']} | {w['s5xx'] + a['s5xx']}"
        stored = f"{lv['resent']['count']} | {sum(lv['stored'].values())}"
        rows.append(f"| {lv['connections']} | {sent} | {answers} | {stored} | {kinds} |")
    return rows


def machine_facts(db_app) -> list[str]:
    from ipt_groups.extensions import db

    with db_app.app_context():
        pg = db.session.scalar(text("SHOW server_version"))
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((x.split(":", 1)[1].strip() for x in cpuinfo if x.startswith("model name")), "?")
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split(" Copyright")[0]
    gunicorn = subprocess.run([str(REPO / ".venv/bin/gunicorn"), "--version"], capture_output=True, text=True)
    return [
        f"- nproc: {os.cpu_count()} ({cpu}); load average at start: {os.getloadavg()[0]:.2f}",
        f"- PostgreSQL {pg}; Python {platform.python_version()}; {gunicorn.stdout.strip()}; {wrk}",
    ]


def report(ctx: dict, levels: list[dict], problems: list[str]) -> str:
    args, seeded = ctx["args"], ctx["seeded"]
    survey = sum(lv["kinds"]["survey"] for lv in levels)
    total = survey + sum(lv["kinds"]["rsvp"] for lv in levels)
    members = len(seeded.survey) + len(seeded.rsvp)
    lines = [
        "# Webhook benchmark results",
        "",
        *ctx["facts"],
        f"- gunicorn (both apps): `{' '.join(gunicorn_settings(args))}`; wrk -t1, connections "
        f"{args.connections}; warm-up {args.warmup:g} s, window {args.duration:g} s per level",
        f"- seeded {members} members in {seeded.groups} groups with started cycles ({seeded.seconds:.0f} s); "
        f"{len(seeded.survey)} with an open PHQ-9 check-in",
        f"- requests sent to the app: {total}, {survey / max(total, 1):.0%} from members with a check-in",
        "",
        "## Headline",
        "",
        "| | app replies/s | app p50 ms | app p99 ms | bare replies/s | bare p50 ms | bare p99 ms | ratio |",
        "|---|---|---|---|---|---|---|---|",
        *headline_rows(levels),
        "",
        "| target (2 cores) | wanted | measured | met? |",
        "|---|---|---|---|",
        *targets_rows(levels),
        "",
        "## Every level (measured window; latencies in ms)",
        "",
        "| connections | app/s | app p50 | app p99 | app p99.9 | bare/s | bare p50 | bare p99 | ratio |",
        "|---|---|---|---|---|---|---|---|---|",
        *level_rows(levels),
        "",
        "## CPU over the window",
        "",
        "Cores in use; 'other' is busy CPU not from gunicorn, the benchmark's PostgreSQL backends or wrk.",
        "",
        "| connections | app | machine | gunicorn | postgres (bench) | wrk | other | app+pg CPU ms/request |",
        "|---|---|---|---|---|---|---|---|",
        *cpu_rows(levels),
        "",
        "Bound from CPU cost (lowest gunicorn + PostgreSQL CPU per request over the levels, all cores busy "
        "with nothing else):",
        "",
        "| app | CPU ms/request | replies/s bound |",
        "|---|---|---|",
        *cost_rows(levels),
        "",
        "## Correctness (app, warm-up + window)",
        "",
        "| connections | sent | answered | 200 | 5xx | re-sent (cut off) | rows stored | stored kinds |",
        "|---|---|---|---|---|---|---|---|",
        *check_rows(levels),
        "",
        "Problems: "
        + ("; ".join(problems) if problems else "none (every answer 200 + TwiML; rows stored = sent)"),
        "",
        "Levels run again: " + ("; ".join(ctx.get("reruns", [])) or "none"),
    ]
    return "\n".join(lines) + "\n"


# --- main ---------------------------------------------------------------------------------------------


def prepare(args) -> dict:
    ensure_database(args.url)
    db_app = seeding.build_app(args.url)
    reset_schema(db_app)
    print("seeding...", file=sys.stderr, flush=True)
    seeded = seeding.seed(db_app, args.members, args.group_size, datetime.now(UTC))
    print(f"seeded in {seeded.seconds:.0f} s", file=sys.stderr, flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-webhook-"))
    lua = tmp / "webhook.lua"
    lua.write_text(load.LUA)
    ports = {name: free_port() for name in APPS}
    base = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    return {
        "args": args,
        "db_app": db_app,
        "seeded": seeded,
        "tmp": tmp,
        "lua": lua,
        "ports": ports,
        "base": base,
    }


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        ctx = prepare(args)
    except OperationalError as exc:  # PostgreSQL restarted by someone else: once more
        print(f"setup failed ({str(exc).splitlines()[0]}); again", file=sys.stderr, flush=True)
        time.sleep(5.0)
        ctx = prepare(args)
    ctx["facts"] = machine_facts(ctx["db_app"])
    logs = {name: ctx["tmp"] / f"gunicorn-{name}.log" for name in APPS}
    ctx["procs"] = {}
    try:
        for name in APPS:
            ctx["procs"][name] = start_gunicorn(args, name, ctx["ports"][name], logs[name])
        levels = [run_level_once(ctx, i, int(c)) for i, c in enumerate(args.connections.split(","))]
    finally:
        for proc in ctx["procs"].values():
            stop_gunicorn(proc)
    problems = [p for lv in levels for p in check_level(lv)] + log_problems(logs)
    print(f"gunicorn logs in {ctx['tmp']}", file=sys.stderr, flush=True)
    sys.stdout.write(report(ctx, levels, problems))


if __name__ == "__main__":
    main()
