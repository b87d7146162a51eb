"""The schema is made only by migrations: they match the models and go down and up again."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from ipt_groups.extensions import db


def _drift():
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_models_and_migrations_agree(app):
    assert _drift() == []


def test_downgrade_to_blank_and_upgrade_again(app):
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert {"members", "messages", "attendance"} <= set(inspect(db.engine).get_table_names())
    assert _drift() == []


def test_datetimes_come_back_aware_utc(app, make_member):
    member = make_member(0)
    db.session.expire_all()
    assert db.session.get(type(member), member.id).created_at.utcoffset().total_seconds() == 0
