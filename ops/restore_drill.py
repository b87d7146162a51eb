"""The restore drill: dump the database as the nightly backup does (pg_dump custom format), restore the
dump into a scratch database, and check that every table has the same number of rows as the source had
at the dump's instant (the counts are read in the very snapshot pg_dump used, so a live database is
fine). Exit status 0 when every count matches; the scratch database is dropped afterwards.

    python ops/restore_drill.py --source postgresql://ipt@db/ipt [--scratch ipt_restore_drill] [--keep]

CI runs it on PostgreSQL (tests/cross_cutting/test_restore_drill.py); docs/OPERATIONS.md says when to
run it by hand (monthly, and after any change to the backup job), on a restored backup file too
(--dump FILE skips the dump and restores that file).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

TABLES = sql.SQL(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
    "AND table_type = 'BASE TABLE' ORDER BY table_name"
)


def conninfo(url: str) -> str:
    """A libpq URL from a SQLAlchemy one (postgresql+psycopg:// -> postgresql://)."""
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url


def with_database(url: str, name: str) -> str:
    """The same server and options, another database (a libpq key=value string)."""
    return make_conninfo(url, dbname=name)


def database_name(url: str) -> str:
    """The database a connection string names."""
    return conninfo_to_dict(url)["dbname"]


def count_rows(conn) -> dict[str, int]:
    """Rows per table of the public schema, in the connection's current snapshot."""
    tables = [row[0] for row in conn.execute(TABLES)]
    return {
        t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchone()[0]
        for t in tables
    }


def dump(source: str, path: Path) -> dict[str, int]:
    """pg_dump the source to `path` and return its row counts at the dump's instant."""
    with psycopg.connect(source) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        subprocess.run(
            ["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={path}", f"--dbname={source}"],
            check=True,
        )
        counts = count_rows(conn)
        conn.rollback()
    return counts


def restore(path: Path, scratch: str) -> None:
    """Recreate the scratch database and restore the dump into it (any error fails the drill)."""
    name = database_name(scratch)
    with psycopg.connect(with_database(scratch, "postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    subprocess.run(
        ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={scratch}", str(path)],
        check=True,
    )


def drop(scratch: str) -> None:
    """Drop the scratch database."""
    name = database_name(scratch)
    with psycopg.connect(with_database(scratch, "postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def compare(expected: dict[str, int], restored: dict[str, int]) -> list[str]:
    """Every table whose count differs, or that is missing on either side."""
    return [
        f"{table}: source {expected.get(table, 'missing')}, restored {restored.get(table, 'missing')}"
        for table in sorted(set(expected) | set(restored))
        if expected.get(table) != restored.get(table)
    ]


def drill(source: str, scratch: str, dump_file: Path | None = None, keep: bool = False) -> list[str]:
    """Dump (unless given a dump), restore, count; returns the mismatches (none: the drill passed)."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        path = dump_file or Path(tmp) / "drill.dump"
        expected = dump(source, path) if dump_file is None else None
        restore(path, scratch)
        with psycopg.connect(scratch) as conn:
            restored = count_rows(conn)
        if expected is None:  # a backup file: compare with the live source, as a plausibility check
            with psycopg.connect(source) as conn:
                expected = count_rows(conn)
        size = path.stat().st_size
    if not keep:
        drop(scratch)
    problems = compare(expected, restored)
    rows = sum(restored.values())
    took = time.monotonic() - started
    print(f"restore drill: {len(restored)} tables, {rows} rows, dump {size} bytes, {took:.1f} s")
    print("\n".join(problems) if problems else "every table's row count matches")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default=os.environ.get("DATABASE_URL", ""), help="default: DATABASE_URL")
    parser.add_argument("--scratch", help="the scratch database's name (default: SOURCE_restore_drill)")
    parser.add_argument("--dump", type=Path, help="restore this backup file instead of making a new dump")
    parser.add_argument("--keep", action="store_true", help="leave the scratch database for inspection")
    args = parser.parse_args(argv)
    if not args.source.startswith("postgres"):
        parser.error("--source (or DATABASE_URL) must be a PostgreSQL URL")
    source = conninfo(args.source)
    scratch = with_database(source, args.scratch or f"{database_name(source)}_restore_drill")
    return 1 if drill(source, scratch, args.dump, args.keep) else 0


if __name__ == "__main__":
    sys.exit(main())
