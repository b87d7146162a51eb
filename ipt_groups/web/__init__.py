"""The pages, under /app/: a phone-first app for facilitators and a console for coordinators,
rendered on the server (Jinja, a little plain JavaScript, every asset served from here). They stand
on the capabilities' operations, as the API does, and on the same authorization layer
(api/access.py): a facilitator sees exactly what their API token would."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing a pure core of the pages (charts, grid) loads no Flask
    from flask import Flask


def register(app: Flask) -> None:
    """Register the pages: their views, their guard and their error pages."""
    from ipt_groups.web import console, facilitator, formation, guard, signin_views  # noqa: F401
    from ipt_groups.web.blueprint import bp, csrf

    csrf.init_app(app)  # checks nothing by itself (WTF_CSRF_CHECK_DEFAULT=False): the guard asks
    app.register_blueprint(bp)
    app.register_error_handler(404, guard.not_found)  # no route matched: no blueprint handler runs
