"""The application factory: configuration, then wiring; only wsgi.py, the CLI and tests call it."""

from __future__ import annotations

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import config_for
from ipt_groups.startup import fill_instance_secrets


def create_app(config_object: object | None = None, **overrides) -> Flask:
    """Build the app: configuration, then wiring; no I/O beyond the instance folder."""
    # Named after the package, as when the factory lived in its __init__: the logger and instance folder.
    app = Flask("ipt_groups", instance_relative_config=True)
    app.config.from_object(config_object or config_for())
    app.config.update(overrides)
    os.makedirs(app.instance_path, exist_ok=True)
    fill_instance_secrets(app.config, app.instance_path)
    if app.config.get("TRUSTED_PROXIES"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    # The simulate command builds a scratch app with this factory; cli.py cannot import this module,
    # which registers it (a cycle).
    app.extensions["ipt_groups.create_app"] = create_app
    return app


def register_extensions(app: Flask) -> None:
    from ipt_groups import models  # noqa: F401  (registers the tables for migrations)
    from ipt_groups.extensions import api, db, limiter, migrate
    from ipt_groups.startup import check_config

    check_config(app.config)
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    api.init_app(app)
    limiter.init_app(app)


def register_blueprints(app: Flask) -> None:
    from ipt_groups.api import register
    from ipt_groups.web import register as register_pages

    register(app)
    register_pages(app)


def register_errorhandlers(app: Flask) -> None:
    from ipt_groups.api.failures import register_handlers

    register_handlers(app)


def register_commands(app: Flask) -> None:
    from ipt_groups.cli import ipt

    app.cli.add_command(ipt)
