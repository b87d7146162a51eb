"""Every CLI failure is one line on stderr with a non-zero exit, never a traceback: unknown ids, bad
input, a database that is not migrated yet, one that cannot be reached; and the `ipt` entry point
works as pasted, from any directory, with no FLASK_APP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask_migrate import upgrade

from config import TestingConfig
from ipt_groups.app import create_app
from ipt_groups.errors import NotFound

IPT = Path(sys.executable).with_name("ipt")


def one_line_error(result, exit_code: int = 1) -> str:
    """The single line a failed command printed on stderr."""
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def ipt_on(url: str, *args: str):
    """Run `ipt ARGS` on an app whose database is `url`."""
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():  # the commands use the current app: the suite's is current otherwise
        return app.test_cli_runner().invoke(args=["ipt", *args])


def test_an_unknown_id_is_one_line(runner):
    assert one_line_error(runner.invoke(args=["ipt", "preview-cycle", "999"])) == "Error: no group 999"
    line = one_line_error(runner.invoke(args=["ipt", "update-coordinator", "42", "--name", "x"]))
    assert line == "Error: no coordinator 42"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["preview-cycle", "abc"], "Error: Invalid value for 'GROUP_ID': 'abc' is not a valid integer"),
        (["preview-cycle"], "Error: Missing argument 'GROUP_ID'"),
        (["no-such-command"], "Error: No such command 'no-such-command'"),
        (["create-token", "--role", "admin", "--name", "x"], "Error: Invalid value for '--role'"),
    ],
)
def test_bad_input_is_one_line_with_where_to_look(runner, args, expected):
    line = one_line_error(runner.invoke(args=["ipt", *args]), exit_code=2)
    assert line.startswith(expected) and line.endswith("--help`)"), line


def test_a_database_not_migrated_yet_says_how_to_migrate(app, tmp_path):
    line = one_line_error(ipt_on(f"sqlite:///{tmp_path}/blank.sqlite3", "list-tokens"))
    assert f"the database sqlite:///{tmp_path}/blank.sqlite3 is not migrated (empty;" in line
    assert "run `make migrate`" in line


def test_a_database_migrated_to_an_older_revision_says_so(app, tmp_path):
    url = f"sqlite:///{tmp_path}/old.sqlite3"
    with create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url).app_context():
        upgrade(revision="f9f200e5eebe")
    line = one_line_error(ipt_on(url, "list-coordinators"))
    assert "is not migrated (at revision f9f200e5eebe; the code needs " in line


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("sqlite:////no/such/directory/ipt.sqlite3", "sqlite:////no/such/directory/ipt.sqlite3"),
        ("postgresql+psycopg://ipt:s3cret@127.0.0.1:1/ipt", "postgresql+psycopg://ipt:***@127.0.0.1:1/ipt"),
    ],
)
def test_a_database_that_cannot_be_reached_is_named_without_its_password(app, url, shown):
    line = one_line_error(ipt_on(url, "list-tokens"))
    assert line.startswith(f"Error: cannot reach the database {shown}: ") and "s3cret" not in line


def test_traceback_shows_the_failure_itself(runner):
    result = runner.invoke(args=["ipt", "--traceback", "preview-cycle", "999"])
    assert isinstance(result.exception, NotFound)


def _run_ipt(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("FLASK_APP", "APP_ENV", "VIRTUAL_ENV")}
    env |= {"DATABASE_URL": url, "PATH": "/usr/bin:/bin"}  # the virtualenv is not activated
    return subprocess.run(
        [str(IPT), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_entry_point_works_as_pasted_from_anywhere(app, tmp_path):
    assert IPT.exists(), "no ipt command in the virtualenv: run `make install` (pip install -e .)"
    url = f"sqlite:///{tmp_path}/ipt.sqlite3"
    with create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url).app_context():
        upgrade()
    done = _run_ipt(tmp_path, url, "add-coordinator", "--name", "Ana", "--timezone", "America/Chicago")
    assert done.returncode == 0 and done.stdout == "coordinator 1 (Ana) added\n", done.stderr
    failed = _run_ipt(tmp_path, url, "preview-cycle", "999")
    assert (failed.returncode, failed.stdout, failed.stderr) == (1, "", "Error: no group 999\n")


def test_a_planning_document_with_several_errors_is_one_line_naming_each(runner, tmp_path):
    doc = {
        "policy": {"first_session_date": "2027-01-12", "min_size": 9, "max_size": 7},
        "members": [{"id": "m1", "problem_area": "grief", "language": "en", "timezone": "Mars/Base"}],
        "facilitators": [],
    }
    source = tmp_path / "plan.json"
    source.write_text(json.dumps(doc))
    line = one_line_error(runner.invoke(args=["ipt", "propose-groups", "--input", str(source)]))
    assert line.startswith("Error: the planning document has errors: ")
    assert "members[0].timezone: " in line and "policy" in line
