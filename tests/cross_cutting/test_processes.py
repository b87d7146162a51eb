"""`make run`'s process manager (ops/run.py: honcho and the Procfile) stops the web process and the
scheduler together on Ctrl-C (SIGINT), SIGTERM and SIGHUP (a closed terminal), and SIGTERM to `make
run` itself reaches it. Real processes on SQLite, a few seconds each."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import pytest
import requests
from flask_migrate import upgrade
from prometheus_client.parser import text_string_to_metric_families

from config import TestingConfig
from ipt_groups.app import create_app

ROOT = Path(__file__).resolve().parents[2]
STARTED = re.compile(r"(web|scheduler)\.1 started \(pid=(\d+)\)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """A migrated SQLite file of their own (the processes share it)."""
    path = tmp_path_factory.mktemp("procs") / "run.sqlite3"
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context():
        upgrade()
    return f"sqlite:///{path}"


def _env(database: str, tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_DATABASE", "FLASK_"))}
    return env | {
        "APP_ENV": "development",
        "DATABASE_URL": database,
        "SCHEDULER_TICK_SECONDS": "1",
        "WEB_WORKERS": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        "PYTHONUNBUFFERED": "1",
    }


class Running:
    """A manager (or `make run`) in a session of its own, as a terminal's job is, with its output."""

    def __init__(self, command: list[str], env: dict, port: int, tmp_path: Path):
        self.log = open(tmp_path / "run.log", "w+")  # noqa: SIM115
        self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)  # fmt: skip
        self.port, self.children = port, {}

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def wait_ready(self, timeout_s: float = 60) -> None:
        """Both processes started, the web answering and the scheduler leading."""
        until = time.monotonic() + timeout_s
        while time.monotonic() < until and self.proc.poll() is None:
            out = self.output()
            self.children = {name: int(pid) for name, pid in STARTED.findall(out)}
            if len(self.children) == 2 and "started (leading)" in out and self._web_answers():
                return
            time.sleep(0.2)
        pytest.fail(f"did not start in {timeout_s} s:\n{self.output()[-3000:]}")

    def _web_answers(self) -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def alive_groups(self) -> list[str]:
        """The process groups (honcho starts each process in one of its own) that still have a member."""
        alive = []
        for name, pgid in self.children.items():
            try:
                os.killpg(pgid, 0)
                alive.append(name)
            except ProcessLookupError:
                pass
        return alive

    def stop(self) -> None:
        for pgid in [self.proc.pid, *self.children.values()]:
            with suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
        self.proc.wait()
        self.log.close()


def _wait_gone(running: Running, timeout_s: float = 20) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if running.proc.poll() is not None and not running.alive_groups():
            return time.monotonic() - started
        time.sleep(0.1)
    pytest.fail(f"still running after {timeout_s} s: {running.alive_groups()}\n{running.output()[-3000:]}")


@pytest.mark.parametrize(
    ("signum", "to_group"),
    [(signal.SIGINT, True), (signal.SIGTERM, False), (signal.SIGHUP, False), (signal.SIGHUP, True)],
    ids=["ctrl-c", "sigterm-to-the-manager", "sighup-to-the-manager", "terminal-closed"],
)
def test_each_signal_stops_web_and_scheduler(database, tmp_path, signum, to_group):
    port = _free_port()
    command = [sys.executable, str(ROOT / "ops" / "run.py"), "--port", str(port)]
    running = Running(command, _env(database, tmp_path), port, tmp_path)
    try:
        running.wait_ready()
        (os.killpg if to_group else os.kill)(running.proc.pid, signum)
        _wait_gone(running)
        assert "scheduler" in running.output() and " stopped" in running.output()
    finally:
        running.stop()


def test_sigterm_to_make_run_stops_both(database, tmp_path):
    port = _free_port()
    env = _env(database, tmp_path) | {"PORT": str(port)}
    # -o demo -o migrate: the database is migrated already, and the demo would write instance/demo-token.txt
    make = ["make", "--no-print-directory", "-o", "demo", "-o", "migrate", "run"]
    running = Running(make, env, port, tmp_path)
    try:
        running.wait_ready(timeout_s=120)
        os.kill(running.proc.pid, signal.SIGTERM)  # make alone, as a supervisor or `kill` would
        _wait_gone(running)
    finally:
        running.stop()


def test_metrics_sum_every_gunicorn_worker(database, tmp_path):
    """Multiprocess mode: whichever of the two workers answers the scrape, it counts all requests."""
    port = _free_port()
    env = _env(database, tmp_path) | {"PORT": str(port), "WEB_WORKERS": "2", "MONITORING_TOKEN": "m"}
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
    log = open(tmp_path / "gunicorn.log", "w+")  # noqa: SIM115
    web = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        until = time.monotonic() + 60
        while time.monotonic() < until:
            try:
                requests.get(f"{base}/healthz", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.2)
        codes = {requests.get(f"{base}/api/v1/members", timeout=5).status_code for _ in range(40)}
        scrape = requests.get(f"{base}/metrics", headers={"Authorization": "Bearer m"}, timeout=5)
        families = {f.name: f for f in text_string_to_metric_families(scrape.text)}
        counted = sum(
            s.value
            for s in families["ipt_http_requests"].samples
            if s.name == "ipt_http_requests_total" and s.labels["route"] == "/api/v1/members"
        )
        assert codes == {401} and counted == 40
        workers = {s.labels.get("pid") for s in families["ipt_http_requests"].samples} - {None}
        assert workers == set()  # summed over the workers, not one series per pid
    finally:
        web.terminate()
        web.wait(timeout=30)
        log.seek(0)
        stopped = log.read()
        log.close()
    assert "Traceback" not in stopped, stopped[-3000:]  # the two workers' exits, each hook run in full


HOOK_IMPORTS_NOTHING = """
import runpy, sys, types

config = runpy.run_path("gunicorn.conf.py")


class NoImports:
    def find_spec(self, name, path=None, target=None):
        raise AssertionError(f"child_exit imported {name}")


sys.meta_path.insert(0, NoImports())
config["child_exit"](None, types.SimpleNamespace(pid=999999))
print("ok")
"""


def test_child_exit_imports_nothing_in_the_signal_handler(tmp_path):
    """gunicorn runs child_exit in the master's SIGCHLD handler; an import there was re-entered by the second
    worker's exit on every stop of `make run` (a traceback: "partially initialized module")."""
    env = _env("sqlite://", tmp_path)
    command = [sys.executable, "-c", HOOK_IMPORTS_NOTHING]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ok\n"
