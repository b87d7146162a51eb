"""The restore drill (ops/restore_drill.py) on PostgreSQL: a programme's database dumped as the backup
job dumps it, restored into a scratch database, every table's rows counted against the source."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bench.pgdb import drop_database, ensure_database, reset_schema
from config import TestingConfig
from ipt_groups.app import create_app
from ipt_groups.devtools.demo import load_demo_programme
from ipt_groups.extensions import db as _db
from tests.conftest import NOW

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "ops"))
import restore_drill  # noqa: E402


@pytest.fixture
def source():
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.skip("the restore drill needs PostgreSQL (pg_dump, pg_restore): set TEST_DATABASE_URL")
    # A database of its own: the drill drops and creates its scratch beside it.
    url = make_url(url).set(database=f"restore_drill_ci_{os.getpid()}").render_as_string(False)
    ensure_database(url)
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url)
    reset_schema(app)
    with app.app_context():
        load_demo_programme("test", NOW, seed=3, if_empty=False)
        _db.session.commit()
        _db.engine.dispose()
    yield restore_drill.conninfo(url)
    drop_database(url)


@pytest.mark.postgres
def test_a_dump_restores_with_every_row(source):
    command = [sys.executable, str(ROOT / "ops" / "restore_drill.py"), "--source", source]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "every table's row count matches" in done.stdout
    tables = int(done.stdout.split(" tables, ")[0].rsplit(" ", 1)[1])
    rows = int(done.stdout.split(" rows,")[0].rsplit(" ", 1)[1])
    assert (
        tables >= 20 and rows >= 60
    )  # the demo's members at least: a drill of an empty database proves little


@pytest.mark.postgres
def test_the_drill_fails_when_a_table_lost_rows(source):
    scratch = restore_drill.with_database(source, f"{restore_drill.database_name(source)}_scratch")
    assert restore_drill.drill(source, scratch, keep=True) == []
    import psycopg

    with psycopg.connect(scratch) as conn:
        conn.execute("DELETE FROM members WHERE id IN (SELECT id FROM members LIMIT 1)")
        conn.commit()
        restored = restore_drill.count_rows(conn)
    with psycopg.connect(source) as conn:
        expected = restore_drill.count_rows(conn)
    restore_drill.drop(scratch)
    assert restore_drill.compare(expected, restored) == [
        f"members: source {expected['members']}, restored {expected['members'] - 1}"
    ]
