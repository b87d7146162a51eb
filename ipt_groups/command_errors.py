"""CLI failures as one clear line on stderr with a non-zero exit, never a traceback: unknown ids, bad
input, a database that is not migrated or cannot be reached. `ipt --traceback ...` shows the rest."""

from __future__ import annotations

import click
from flask.cli import AppGroup, ScriptInfo
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from ipt_groups.errors import DomainError
from ipt_groups.extensions import db

MIGRATE_HINT = "run `make migrate` (or `.venv/bin/flask --app wsgi db upgrade`)"


class CommandError(click.ClickException):
    """One line, `Error: ...`, on stderr; usage mistakes exit 2 as click's own do."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(" ".join(message.split()))
        self.exit_code = exit_code


class OneLineErrors(AppGroup):
    """A command group whose failures are each one line (see the module's docstring)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort, CommandError):
            raise
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else ctx.command_path
            message = exc.format_message().rstrip(".")
            raise CommandError(f"{message} (see `{where} --help`)", exc.exit_code) from exc
        except click.ClickException as exc:
            raise CommandError(exc.format_message(), exc.exit_code) from exc
        except Exception as exc:
            if ctx.params.get("traceback"):
                raise
            raise CommandError(describe(exc, ctx.find_object(ScriptInfo))) from exc


def describe(exc: Exception, script_info: ScriptInfo | None) -> str:
    """The one line a failure is shown as."""
    if isinstance(exc, DomainError):
        details = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in exc.errors.items())
        return exc.message + (f" ({details})" if details else "")
    if isinstance(exc, SQLAlchemyError) and script_info is not None:
        return database_problem(exc, script_info)
    return f"{type(exc).__name__}: {exc} (rerun as `ipt --traceback ...` to see where)"


def database_problem(exc: SQLAlchemyError, script_info: ScriptInfo) -> str:
    """Why a command's database work failed: unreachable, not migrated, or the driver's own words."""
    app = script_info.load_app()
    with app.app_context():
        db.session.remove()
        where = db.engine.url.render_as_string(hide_password=True)
        try:
            with db.engine.connect() as conn:
                revision = _revision(conn)
        except SQLAlchemyError as unreachable:
            return f"cannot reach the database {where}: {_first_line(unreachable)}"
        head = _head_revision(app)
        if revision != head:
            state = f"at revision {revision}" if revision else "empty"
            return f"the database {where} is not migrated ({state}; the code needs {head}): {MIGRATE_HINT}"
    return f"database error on {where}: {_first_line(exc)}"


def _revision(conn) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def _head_revision(app) -> str:
    from alembic.script import ScriptDirectory

    config = app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_current_head()


def _first_line(exc: SQLAlchemyError) -> str:
    cause = getattr(exc, "orig", None) or exc
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]
