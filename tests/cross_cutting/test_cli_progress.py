"""Long CLI work shows progress on a terminal and nothing elsewhere; `ipt import-waitlist` imports
a spreadsheet as the API does, listing every problem, then one Error line."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from flask_migrate import upgrade

from config import TestingConfig
from ipt_groups.app import create_app
from ipt_groups.cli import cli_actor
from ipt_groups.models import AuditEntry, Member
from tests.conftest import count

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "waitlist-example.csv"
IPT = Path(sys.executable).with_name("ipt")


def test_import_waitlist_checks_then_imports_with_no_progress_off_a_terminal(runner):
    dry = runner.invoke(args=["ipt", "import-waitlist", str(EXAMPLE), "--dry-run"])
    assert (dry.exit_code, dry.output) == (0, "10 rows valid; nothing written (dry run).\n")
    assert count(Member) == 0
    done = runner.invoke(args=["ipt", "import-waitlist", str(EXAMPLE)])
    assert (done.exit_code, done.output) == (0, "10 rows valid; 10 members added to the waitlist.\n")
    created = AuditEntry.query.filter_by(action="member.create").all()
    assert len(created) == 10 and {e.actor for e in created} == {cli_actor()}


def test_import_waitlist_lists_every_problem_then_one_error_line(runner, tmp_path):
    sheet = tmp_path / "bad.csv"
    sheet.write_text(
        "name,phone,timezone,language,problem_area\r\n"
        "Ana Ruiz,call me,Mars/Olympus,es,grief\r\n"
        "Bo Chen,(312) 555-0101,America/Chicago,en,sadness\r\n",
        encoding="cp1252",
    )
    result = runner.invoke(args=["ipt", "import-waitlist", str(sheet)])
    assert result.exit_code == 1
    listed = result.stdout.splitlines()
    assert [line.split(":")[0] for line in listed] == [
        "row 2, phone",
        "row 2, timezone",
        "row 3, problem_area",
    ]
    assert all(". Fix: " in line for line in listed)
    assert (
        result.stderr
        == "Error: 2 of 2 rows have errors; nothing was imported (each problem is listed above)\n"
    )
    assert count(Member) == 0


def _migrated(tmp_path) -> str:
    url = f"sqlite:///{tmp_path}/ipt.sqlite3"
    with create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url).app_context():
        upgrade()
    return url


def _run(args: list[str], url: str, terminal: bool) -> str:
    """Run `ipt ARGS` with stdout on a terminal (a pseudo-terminal) or a pipe; what stdout got."""
    env = {**os.environ, "DATABASE_URL": url, "APP_ENV": "development"}
    if not terminal:
        return subprocess.run([str(IPT), *args], env=env, capture_output=True, text=True, timeout=120).stdout
    main, child = pty.openpty()
    proc = subprocess.Popen([str(IPT), *args], env=env, stdout=child, stderr=subprocess.DEVNULL)
    os.close(child)
    out = b""
    while chunk := _read(main):
        out += chunk
    proc.wait(timeout=120)
    os.close(main)
    return out.decode()


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # the child closed the terminal
        return b""


def test_progress_shows_on_a_terminal_and_nowhere_else(app, tmp_path):
    url = _migrated(tmp_path)
    args = ["import-waitlist", str(EXAMPLE), "--dry-run"]
    on_terminal = _run(args, url, terminal=True)
    assert "Checking rows" in on_terminal and "100%" in on_terminal
    assert on_terminal.rstrip().endswith("10 rows valid; nothing written (dry run).")
    assert _run(args, url, terminal=False) == "10 rows valid; nothing written (dry run).\n"


def test_a_proposal_shows_its_time_limit_on_a_terminal_and_only_json_elsewhere(app, tmp_path):
    plan = {
        "policy": {"first_session_date": "2027-01-12", "time_limit_s": 2},
        "members": [
            {
                "id": "m1",
                "problem_area": "grief",
                "language": "en",
                "timezone": "America/Chicago",
                "waitlisted_at": "2026-09-01T12:00:00Z",
                "availability": [{"day": "tue", "start": "17:00", "end": "21:00"}],
            }
        ],
        "facilitators": [],
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    args = ["propose-groups", "--input", str(tmp_path / "plan.json")]
    on_terminal = _run(args, "sqlite://", terminal=True)
    assert "Forming groups (up to 2 s)" in on_terminal and "100%" in on_terminal
    assert json.loads(_run(args, "sqlite://", terminal=False))["stats"]["members"] == 1
