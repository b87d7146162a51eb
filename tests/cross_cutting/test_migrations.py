"""The schema is made only by migrations: they match the models and go down and up again."""

import json

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

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


def test_languages_migration_keeps_english_texts_and_gives_facilitators_a_language(app):
    """Before languages, the programme's texts were English only and keyed by text, and facilitators
    had only the languages they lead in: upgrading keeps the texts as English ones, and gives each
    facilitator the first of their languages; downgrading gives back the English texts."""
    downgrade(revision="432710ea60bb")
    with db.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO settings (key, value, updated_at) VALUES ('message_texts', :v, :t)"),
            {"v": '{"session_reminder_2h": "See you at {time}."}', "t": "2026-11-25 12:00:00+00:00"},
        )
        facilitator = (
            "INSERT INTO facilitators (name, phone, email, timezone, languages, availability, problem_areas, "
            "max_groups, created_at, updated_at) VALUES (:n, :p, :e, 'UTC', :l, '[]', '[]', 2, :t, :t)"
        )
        for i, languages in enumerate(['["es", "en"]', "[]"]):
            conn.execute(
                text(facilitator),
                {
                    "n": f"F{i}",
                    "p": f"+120255501{i:02d}",
                    "e": f"f{i}@x.org",
                    "l": languages,
                    "t": "2026-11-25",
                },
            )
    upgrade()
    with db.engine.connect() as conn:
        value = conn.execute(text("SELECT value FROM settings WHERE key = 'message_texts'")).scalar()
        languages = conn.execute(text("SELECT language FROM facilitators ORDER BY name")).scalars().all()
    assert (json.loads(value) if isinstance(value, str) else value) == {
        "en": {"session_reminder_2h": "See you at {time}."}
    }
    assert languages == ["es", "en"]
    downgrade(revision="432710ea60bb")
    with db.engine.connect() as conn:
        value = conn.execute(text("SELECT value FROM settings WHERE key = 'message_texts'")).scalar()
    assert (json.loads(value) if isinstance(value, str) else value) == {
        "session_reminder_2h": "See you at {time}."
    }
    upgrade()
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM settings"))
        conn.execute(text("DELETE FROM facilitators"))
