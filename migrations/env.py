"""Alembic environment: runs against the app's engine, in batch mode so SQLite can alter tables."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from ipt_groups.models.types import UTCDateTime

config = context.config
if config.config_file_name and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

migrate_ext = current_app.extensions["migrate"]
target_metadata = migrate_ext.db.metadata


def render_item(type_, obj, autogen_context):
    """Write UTCDateTime as a plain timezone-aware DateTime, so migrations never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def skip_empty(context_, revision, directives):
    """No empty revision when autogenerate finds no change."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []


def run_migrations_online() -> None:
    options = {"process_revision_directives": skip_empty, "render_item": render_item}
    options.update(migrate_ext.configure_args)
    with migrate_ext.db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, **options)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
