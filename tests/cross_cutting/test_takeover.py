"""A standby takes over: two real scheduler processes, the lock holder killed with SIGKILL mid-work,
the other leading within two ticks, and every message sent at most once (bench/takeover.py, one trial;
on PostgreSQL both processes dispatch, on SQLite the standby waits for the lock)."""

import os
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bench.pgdb import drop_database, ensure_database

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import takeover  # noqa: E402

TICK_S = 2


@pytest.fixture
def url(tmp_path):
    base = os.environ.get("TEST_DATABASE_URL", "")
    if not base.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'takeover.sqlite3'}"
        return
    url = make_url(base).set(database=f"takeover_ci_{os.getpid()}").render_as_string(False)
    ensure_database(url)
    yield url
    drop_database(url)


def test_a_standby_leads_within_two_ticks_of_the_leaders_death(url, tmp_path):
    result = takeover.trial(url, TICK_S, processes=2, messages=30, workdir=tmp_path)
    print(result)
    assert 0 < result["takeover_s"] <= result["first_leading_tick_s"]
    # Two tick intervals, and a second for a busy machine to schedule the process.
    assert result["first_leading_tick_s"] <= 2 * TICK_S + 1.0, result
    assert result["duplicates"] == [] and set(result["states"]) <= {"sent", "unknown"}
    assert sum(result["states"].values()) == 30 and result["printed"] >= result["states"].get("sent", 0)
