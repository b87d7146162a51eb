"""The HTTP surface: the admin API under /api/v1, health, and the Twilio webhooks."""

from flask import Flask, current_app
from werkzeug.routing import IntegerConverter

from ipt_groups.extensions import api, limiter
from ipt_groups.ratelimits import token_or_address
from ipt_groups.schemas.fields import MAX_ID


class IdConverter(IntegerConverter):
    """`<int:...>` in routes: at most MAX_ID, so a larger id matches no route (404), not a 500."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def register(app: Flask) -> None:
    """Register every blueprint."""
    from ipt_groups.api import (
        alerts,
        apidoc,
        attendance,
        coordinators,
        cycles,
        facilitators,
        groups,
        health,
        meetings,
        members,
        messages,
        proposals,
        settings,
        twilio_hooks,
    )

    app.url_map.converters["int"] = IdConverter
    apidoc.install(api.spec)
    # Webhooks are never limited before their signature is checked: the view counts per sender after it.
    limiter.exempt(twilio_hooks.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(twilio_hooks.bp)
    blueprints = [
        m.bp
        for m in (
            members,
            facilitators,
            coordinators,
            groups,
            proposals,
            cycles,
            meetings,
            messages,
            alerts,
            attendance,
            settings,
        )
    ]
    for bp in [*blueprints, attendance.feeds]:
        _limit(bp, "API_RATE_LIMIT", token_or_address)
        api.register_blueprint(bp)


def _limit(bp, setting: str, key_func) -> None:
    """Put a configurable limit on a blueprint once, however many apps are built (tests build several)."""
    if not getattr(bp, "_rate_limited", False):
        limiter.limit(lambda: current_app.config[setting], key_func=key_func)(bp)
        bp._rate_limited = True
