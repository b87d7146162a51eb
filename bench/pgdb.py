"""The benchmarks' PostgreSQL databases: each benchmark runs on one of its own, created on demand."""

from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import database_url
from ipt_groups.extensions import db


def _admin(url: str):
    target = make_url(database_url(url))
    return target, create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")


def ensure_database(url: str) -> None:
    """Create the benchmark's database if it does not exist (connecting to `postgres`)."""
    target, admin = _admin(url)
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}):
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def drop_database(url: str) -> None:
    """Drop a benchmark's database (the CI fault run's own, once it is done)."""
    target, admin = _admin(url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


def reset_schema(app) -> None:
    """Drop and recreate the database's `public` schema, then migrate it with the app's own migrations."""
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade()
